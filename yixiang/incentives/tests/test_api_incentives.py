"""GET /api/v1/incentives/statements and the input endpoints: shape, scoping, errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from yixiang.incentives.models import Assessment, DevelopedCustomer, MonthClose
from yixiang.incentives.tests.factories import assess, developed

APR = dt.date(2011, 4, 1)
URL = "/api/v1/incentives/statements"


@pytest.fixture
def april(inc):
    """North: rep (3 customers, +500), teammate (short: −300), other_team_rep (−800); south: outsider."""
    for user in (inc.rep, inc.teammate, inc.other_team_rep, inc.outsider):
        assess(user, APR, 2, pay=3000)
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 2), name="甲")
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 3), name="乙")
    developed(inc, inc.rep, 25000, dt.date(2011, 4, 4), name="丙")
    developed(inc, inc.teammate, 9000, dt.date(2011, 4, 5), name="丁")
    return inc


def users_seen(api_as, user) -> set[str]:
    resp = api_as(user).get(URL, month="2011-04")
    assert resp.status_code == 200, resp.content
    return {s["user"] for s in resp.json()}


def test_one_statement_per_assessed_person_with_lines_in_words(april, api_as):
    resp = api_as(april.admin).get(URL, month="2011-04")
    assert resp.status_code == 200
    by_user = {s["user"]: s for s in resp.json()}
    assert set(by_user) == {"rep", "teammate", "other_team_rep", "outsider", "director", "south_director"}
    rep = by_user["rep"]
    assert (rep["role"], rep["threshold"], rep["valid_customers"], rep["total"]) == ("manager", 2, 3, 500)
    assert rep["total"] == sum(line["amount"] for line in rep["lines"])
    reward = [line for line in rep["lines"] if line["kind"] == "reward"]
    assert reward[0]["customer"]["name"] == "丙" and reward[0]["amount"] == 500
    assert reward[0]["funding_source"] == "month_penalties"
    assert "20,000" in reward[0]["reason"]
    counted = [line for line in rep["lines"] if line["kind"] == "counted"]
    assert [c["customer"]["name"] for c in counted] == ["甲", "乙"] and counted[0]["funding_source"] is None
    teammate = by_user["teammate"]
    assert teammate["total"] == -300 and teammate["lines"][-1]["customer"] is None
    director = by_user["director"]
    assert (director["role"], director["threshold"], director["valid_customers"], director["total"]) == (
        "director", 6, 4, -600,
    )  # fmt: skip


def test_reasons_follow_the_readers_language(april, api_as):
    client = api_as(april.rep)
    zh = client.client.get(URL, {"month": "2011-04"}, headers={**client.headers, "Accept-Language": "zh-hans"})
    en = client.client.get(URL, {"month": "2011-04"}, headers={**client.headers, "Accept-Language": "en"})
    penalty_zh = zh.json()[0]["lines"][0]["reason"]
    penalty_en = en.json()[0]["lines"][0]["reason"]
    assert "Counts 1 toward the threshold" in penalty_en
    assert penalty_zh != penalty_en


def test_a_rep_sees_only_their_own_statement(april, api_as):
    assert users_seen(api_as, april.rep) == {"rep"}
    assert users_seen(api_as, april.teammate) == {"teammate"}
    assert users_seen(api_as, april.outsider) == {"outsider"}


def test_a_lead_sees_the_team_a_director_the_region_an_admin_all(april, api_as):
    assert users_seen(api_as, april.lead1) == {"rep", "teammate"}
    assert users_seen(api_as, april.lead2) == {"other_team_rep"}
    assert users_seen(api_as, april.director) == {"rep", "teammate", "other_team_rep", "director"}
    assert users_seen(api_as, april.south_director) == {"outsider", "south_director"}
    assert len(users_seen(api_as, april.admin)) == 6


def test_the_month_summary_shows_funding_to_administrators_only(april, api_as):
    rep = api_as(april.rep).get("/api/v1/incentives/months/2011-04").json()
    assert rep["funding"] is None and rep["closed"] is False and rep["statements"] == 1
    admin = api_as(april.admin).get("/api/v1/incentives/months/2011-04").json()
    # teammate −300, other_team_rep and outsider −800 each, director 4 of 6 and south_director 0 of 2: −600 each
    assert admin["funding"]["penalties"] == 300 + 800 + 800 + 600 + 600
    assert admin["scheme"].startswith("关于2011年度")


@pytest.mark.parametrize("month", ["2011-4-1", "April", "2011-13", ""])
def test_a_bad_month_is_a_clear_400(inc, api_as, month):
    resp = api_as(inc.rep).get(URL, month=month)
    assert resp.status_code in (400, 422)
    assert resp.json()["detail"]


def test_a_month_without_a_scheme_is_a_clear_400(inc, api_as):
    resp = api_as(inc.rep).get(URL, month="2010-12")
    assert resp.status_code == 400
    assert resp.json()["code"] == "no_scheme"


def test_statements_need_a_token():
    assert Client().get(URL, {"month": "2011-04"}).status_code == 401


def test_only_an_administrator_closes_a_month(april, api_as):
    resp = api_as(april.director).post("/api/v1/incentives/months/2011-04/close")
    assert resp.status_code == 403
    assert not MonthClose.objects.exists()
    resp = api_as(april.admin).post("/api/v1/incentives/months/2011-04/close")
    assert resp.status_code == 200 and resp.json()["closed"] is True
    assert api_as(april.rep).get(URL, month="2011-04").json()[0]["total"] == 500


def test_assessments_are_filed_by_a_director_within_the_region(inc, api_as):
    payload = {"user_id": inc.rep.pk, "month": "2011-04", "threshold": 1, "performance_pay": 800}
    assert api_as(inc.rep).post("/api/v1/incentives/assessments", payload).status_code == 403
    assert api_as(inc.south_director).post("/api/v1/incentives/assessments", payload).status_code == 404
    resp = api_as(inc.director).post("/api/v1/incentives/assessments", payload)
    assert resp.status_code == 200
    assert (resp.json()["threshold"], resp.json()["performance_pay"]) == (1, 800)
    bad = api_as(inc.director).post("/api/v1/incentives/assessments", {**payload, "threshold": 5})
    assert bad.status_code == 400 and bad.json()["field"] == "threshold"
    assert Assessment.objects.get().threshold == 1


def test_developed_customers_are_recorded_and_marked_faked_through_the_api(inc, api_as):
    customer = inc.customer(inc.rep, "接口客户")
    payload = {"customer_id": customer.pk, "developer_id": inc.rep.pk, "month": "2011-04", "reported_on": "2011-04-09"}
    assert api_as(inc.outsider).post("/api/v1/incentives/developed", payload).status_code == 403
    assert api_as(inc.south_director).post("/api/v1/incentives/developed", payload).status_code == 404
    resp = api_as(inc.director).post("/api/v1/incentives/developed", payload)
    assert resp.status_code == 200 and resp.json()["customer"]["name"] == "接口客户"
    assert api_as(inc.director).post("/api/v1/incentives/developed", payload).status_code == 409
    row_id = resp.json()["id"]
    assert api_as(inc.director).post(f"/api/v1/incentives/developed/{row_id}/faked", {}).status_code == 403
    resp = api_as(inc.admin).post(f"/api/v1/incentives/developed/{row_id}/faked", {"found_month": "2011-05"})
    assert resp.status_code == 200 and resp.json()["faked_found_month"] == "2011-05"
    assert DevelopedCustomer.objects.get().faked
