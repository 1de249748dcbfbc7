"""Issue 12 guard: the slowest request any role can make with valid-looking parameters finishes
well inside the request ceiling on the demo data (both regions).

Each route is asked with the widest parameters it allows: report periods of three years ending at
the last month allowed (a year ahead), incentive statements at the furthest month allowed, the team
review over a year, the care list over a year, exports of everything in scope. Measured after one
warm-up request per client (template and URL loading are not the request's). The bound is on this
process's CPU time (the test client runs the request in-process; on SQLite that includes the
queries), which a shared machine's load does not inflate; wall time is held to the 10 s request
ceiling only. Before the month bounds, the incentive routes at a month far ahead took from 17 s to
minutes of CPU."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from yixiang.accounts.models import Region, User
from yixiang.incentives import rules
from yixiang.testing import ApiClient

pytestmark = pytest.mark.django_db

BOUND = 2.0  # seconds of CPU, per request
CEILING = 10.0  # seconds of wall time, per request (the request ceiling)
ROLES = ["admin", "director", "director2", "lead1", "rep1", "rep7"]


def _routes(region_id: int) -> list[str]:
    today = timezone.localdate()
    last = rules.month_bounds(None, today)[1]
    last_month = last.strftime("%Y-%m")
    period_to = rules.month_end(last)
    wide = f"from={(period_to - dt.timedelta(days=3 * 366)).isoformat()}&to={period_to.isoformat()}"
    past = f"from={(today - dt.timedelta(days=3 * 366)).isoformat()}&to={today.isoformat()}"
    year = f"from={(today - dt.timedelta(days=366)).isoformat()}&to={today.isoformat()}"
    reports = [f"/api/v1/reports/{s}?{past}&unit=week" for s in ("funnel", "movement", "activity", "aftercare")]
    return [
        *reports,
        f"/api/v1/reports/incentives?{wide}&unit=month",
        f"/api/v1/reports/export/incentives?{wide}&unit=month",
        f"/api/v1/reports/export/activity?{past}&unit=week",
        f"/api/v1/incentives/statements?month={last_month}",
        f"/api/v1/incentives/months/{last_month}",
        f"/incentives/?month={last_month}",
        f"/incentives/export.xlsx?month={last_month}",
        f"/reports/incentives/?{wide}&region={region_id}",
        f"/reports/?{past}&region={region_id}",
        f"/team/review/?{year}",
        f"/care/?{year}",
        "/api/v1/exports/customers",
        "/customers/export/?format=xlsx",
        "/api/v1/customers?page_size=200",
        "/api/v1/agenda",
        "/agenda/",
        "/pool/",
    ]


def test_the_slowest_request_of_any_role_is_under_two_seconds():
    call_command("seed_demo", verbosity=0)
    east = Region.objects.get(name="华东大区").pk
    slowest: list[tuple[float, str, str, int]] = []
    for username in ROLES:
        user = User.objects.get(username=username)
        api, web = ApiClient(user), Client()
        web.force_login(user)
        api.get("/api/v1/agenda")  # warm-up (imports, templates, URL resolver)
        web.get("/agenda/")
        for url in _routes(east):
            client = api.client if url.startswith("/api/") else web
            headers = api.headers if url.startswith("/api/") else {}
            t, cpu = time.perf_counter(), time.process_time()
            resp = client.get(url, headers=headers)
            took, wall = time.process_time() - cpu, time.perf_counter() - t
            # Valid parameters: an answer, or "not yours" for a region out of scope; never a 5xx.
            assert resp.status_code in (200, 404), (username, url, resp.status_code, resp.content[:300])
            slowest.append((took, username, url, resp.status_code))
            assert wall < CEILING, (username, url, wall)
    slowest.sort(reverse=True)
    print("\nslowest requests (CPU):", *(f"{t:.3f}s {u} {url} {s}" for t, u, url, s in slowest[:8]), sep="\n  ")
    over = [s for s in slowest if s[0] >= BOUND]
    assert not over, over
