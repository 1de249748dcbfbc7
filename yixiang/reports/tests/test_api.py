"""The reports API: the same figures as the pages, with Bearer tokens; scoping as 404."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from yixiang.reports.models import WinRateSnapshot
from yixiang.reports.tests import data

pytestmark = pytest.mark.django_db

JANUARY = {"from": "2025-01-01", "to": "2025-01-31"}


def stage_counts(row) -> dict[int, int]:
    return {s["stage"]: s["count"] for s in row["stages"] if s["count"]}


def test_funnel_at_a_past_date(org, api_as):
    data.build(org)
    r = api_as(org.director).get("/api/v1/reports/funnel", date="2025-01-31", **JANUARY)
    assert r.status_code == 200
    body = r.json()
    assert body["as_of"] == "2025-01-31"
    reps = {row["name"]: stage_counts(row) for row in body["reps"]}
    # The north region on 31 Jan (see tests/data.py): the south's 己 is not there.
    assert reps == {"rep": {2: 1, 3: 1}, "teammate": {1: 1, 2: 1}, "other_team_rep": {4: 1}}
    assert stage_counts(body["total"]) == {1: 1, 2: 2, 3: 1, 4: 1}
    assert [t["name"] for t in body["teams"]] == ["北一组", "北二组"]
    # Per team: the same numbers narrowed by the filter.
    r = api_as(org.director).get("/api/v1/reports/funnel", date="2025-01-31", team=org.n2.pk)
    assert stage_counts(r.json()["total"]) == {4: 1}
    # Targets: ≈20 / ≈40 / ≈10 per rep.
    assert body["targets_per_rep"] == {"0": 20, "1-2": 40, "3-4": 10}


def test_scoping_is_404_and_never_a_leak(org, api_as):
    data.build(org)
    rep = api_as(org.rep)
    assert rep.get("/api/v1/reports/funnel", rep=org.teammate.pk).status_code == 404
    assert rep.get("/api/v1/reports/activity", team=org.n2.pk).status_code == 404
    body = rep.get("/api/v1/reports/funnel", team=org.n1.pk).json()
    assert [r["name"] for r in body["reps"]] == ["rep"]
    lead = api_as(org.lead1)
    assert lead.get("/api/v1/reports/aftercare", rep=org.other_team_rep.pk).status_code == 404
    assert lead.get("/api/v1/reports/movement", region=org.south.pk).status_code == 404
    assert {r["name"] for r in lead.get("/api/v1/reports/funnel").json()["reps"]} == {"rep", "teammate"}
    assert api_as(org.south_director).get("/api/v1/reports/funnel", team=org.n1.pk).status_code == 404


def test_anonymous_is_refused(client):
    assert client.get("/api/v1/reports/funnel").status_code == 401


def test_movement_routes(org, api_as):
    data.build(org)
    c = api_as(org.lead1)
    conv = {
        x["stage"]: (x["entered"], x["advanced"])
        for x in c.get("/api/v1/reports/conversion", rep=org.rep.pk, **JANUARY).json()
    }
    assert conv[1] == (3, 2) and conv[0] == (1, 1)
    durations = {
        x["stage"]: x["median_days"] for x in c.get("/api/v1/reports/stage-durations", rep=org.rep.pk, **JANUARY).json()
    }
    assert durations[1] == 15.0
    wins = c.get("/api/v1/reports/win-rates", rep=org.rep.pk).json()
    assert wins["min_sample"] == 5
    assert {w["stage"]: (w["reached"], w["signed"]) for w in wins["stages"]}[1] == (3, 1)
    whole = c.get("/api/v1/reports/movement", rep=org.rep.pk, **JANUARY).json()
    assert whole["from"] == "2025-01-01" and whole["customers"] == 4


def test_win_probability_route(org, api_as, settings):
    built = data.build(org)
    settings.YIXIANG = {**settings.YIXIANG, "WIN_RATE_MIN_SAMPLE": 3}
    body = api_as(org.rep).get(f"/api/v1/reports/customers/{built.c2.pk}/win-probability").json()
    assert (body["stage"], body["reached"], body["signed"], body["percent"]) == (1, 3, 1, 33)
    snap = WinRateSnapshot.objects.get(part="pool").computed_at
    # Milliseconds in the JSON.
    assert abs(dt.datetime.fromisoformat(body["as_of"].replace("Z", "+00:00")) - snap) < dt.timedelta(milliseconds=1)
    assert api_as(org.rep).get(f"/api/v1/reports/customers/{built.c6.pk}/win-probability").status_code == 404


def test_bad_filters_are_clear_400s(org, api_as):
    c = api_as(org.rep)
    r = c.get("/api/v1/reports/funnel", **{"from": "2025-03-01", "to": "2025-02-01"})
    assert r.status_code == 400 and r.json()["field"] == "from"
    r = c.get("/api/v1/reports/funnel", date="2999-01-01")
    assert r.status_code == 400 and r.json()["field"] == "date"
    assert c.get("/api/v1/reports/funnel", date="yesterday").status_code == 422
    assert c.get("/api/v1/reports/activity", unit="year").status_code == 422


def test_xlsx_export_from_the_api(org, api_as):
    data.build(org)
    r = api_as(org.lead1).get("/api/v1/reports/export/movement", rep=org.rep.pk, **JANUARY)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    conv = wb.worksheets[0]
    rows = list(conv.iter_rows(values_only=True))[1:]
    # Columns: stage, next stage, in the stage, moved on, rate; rows from rejecting to 4.
    assert [(row[2], row[3]) for row in rows] == [(0, 0), (1, 1), (3, 2), (1, 0), (1, 0), (0, 0)]
    filters = dict(wb.worksheets[-1].iter_rows(values_only=True))
    assert filters["rep"] == str(org.rep.pk) and filters["from"] == "2025-01-01"


def test_openapi_lists_the_routes(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in (
        "/api/v1/reports/funnel",
        "/api/v1/reports/movement",
        "/api/v1/reports/activity",
        "/api/v1/reports/export/{section}",
    ):
        assert p in paths


@pytest.mark.parametrize(
    "path,limit",
    [("funnel", 8), ("movement", 6), ("aftercare", 17), ("activity", 32)],
)
def test_api_queries_do_not_grow_with_rows(org, api_as, django_assert_max_num_queries, path, limit):
    data.build(org)
    c = api_as(org.admin)
    params = {"date": "2025-01-31"} if path == "funnel" else {}
    with django_assert_max_num_queries(limit):
        assert c.get(f"/api/v1/reports/{path}", **params).status_code == 200
    for i in range(25):
        cust = data.customer(org, org.rep, f"量{i}", created=data.at(1, 1), stage=1)
        data.change(cust, data.at(1, 4), 0, 1, org.rep)
    with django_assert_max_num_queries(limit):
        assert c.get(f"/api/v1/reports/{path}", **params).status_code == 200
