"""Issue 12, defect 1: a month parameter cannot make the engine chain months without end.

Months outside rules.month_bounds (more than a year ahead, before 1900) and before the first scheme
version are a clear 400 (API) or a message (pages) at every entry point, and the engine refuses them too.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from yixiang.incentives import rules
from yixiang.incentives.engine import Engine, MonthOutOfRange, NoScheme
from yixiang.testing import PASSWORD


def test_bounds_run_from_the_first_version_to_a_year_ahead():
    today = dt.date(2026, 12, 2)
    assert rules.month_bounds(dt.date(2011, 3, 15), today) == (dt.date(2011, 3, 1), dt.date(2027, 12, 1))
    assert rules.month_bounds(None, today) == (rules.EARLIEST_MONTH, dt.date(2027, 12, 1))
    assert rules.month_in_bounds(dt.date(2027, 12, 1), dt.date(2011, 3, 1), today)
    assert not rules.month_in_bounds(dt.date(2028, 1, 1), dt.date(2011, 3, 1), today)
    assert not rules.month_in_bounds(dt.date(2011, 2, 1), dt.date(2011, 3, 1), today)
    assert not rules.month_in_bounds(dt.date(1, 1, 1), None, today)


def _far() -> str:
    """Two years ahead: computed before the fix (one month after another), refused now."""
    return rules.add_months(rules.month_start(timezone.localdate()), 24).strftime("%Y-%m")


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "far"])
@pytest.mark.parametrize("route", ["/api/v1/incentives/statements?month={m}", "/api/v1/incentives/months/{m}"])
def test_out_of_range_months_are_a_clear_400(inc, api_as, route, month):
    month = _far() if month == "far" else month
    resp = api_as(inc.rep).get(route.format(m=month))  # before the fix: 200 after minutes, or a 500
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "month_out_of_range"
    assert month in resp.json()["detail"]


def test_a_month_before_the_first_version_is_no_scheme(inc, api_as):
    resp = api_as(inc.rep).get("/api/v1/incentives/months/2010-12")
    assert (resp.status_code, resp.json()["code"]) == (400, "no_scheme")


def test_writes_for_out_of_range_months_are_refused(inc, api_as):
    resp = api_as(inc.director).post(
        "/api/v1/incentives/assessments",
        {"user_id": inc.rep.pk, "month": "9999-12", "threshold": 2, "performance_pay": 3000},
    )
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "month_out_of_range"


def test_the_engine_refuses_too(inc):
    with pytest.raises(MonthOutOfRange):
        Engine().result(dt.date(9999, 12, 1))
    with pytest.raises(MonthOutOfRange):
        Engine().result(dt.date(1, 1, 1))
    with pytest.raises(NoScheme):
        Engine().result(dt.date(2010, 12, 1))


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
@pytest.mark.parametrize("name", ["incentive_statements", "incentive_statements_xlsx", "incentive_assessments"])
def test_pages_answer_a_message_not_a_500(inc, month, name):
    from django.urls import reverse

    c = Client()
    assert c.login(username=inc.director.username, password=PASSWORD)
    resp = c.get(reverse(name), {"month": month}, follow=True)
    assert resp.status_code == 200
    body = resp.content.decode()
    assert month in body
    last = rules.month_bounds(None, timezone.localdate())[1]
    assert last.strftime("%Y-%m") in body  # names the last month allowed


def test_report_periods_far_ahead_are_a_clear_400(inc, api_as):
    resp = api_as(inc.director).get("/api/v1/reports/incentives", **{"from": "6687-01-01"})
    assert resp.status_code == 400, resp.content
    assert "to" in resp.json()["errors"]
    resp = api_as(inc.director).get("/api/v1/reports/incentives", **{"from": _far() + "-01"})
    assert resp.status_code == 400, resp.content
