"""Query counts of the report pages not guarded elsewhere (issue 7): the weekly one-pager,
xlsx exports, movement and win-rate APIs, the win-chance fragment of the customer page. Each page
is requested, the team grows (members with customers and follow-ups that raise stages), and the
page must show more for the same number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.perf.test_hot_pages import _busy_team, api, assert_flat, customer, html_rows, queries, web

pytestmark = pytest.mark.django_db


def _grow(org):
    counter = iter(range(2, 1000, 3))
    return lambda: _busy_team(org, 3, next(counter))


def test_weekly_page_for_a_team(org):
    _busy_team(org, 2, 0)
    page = web(org.lead1)
    week = timezone.localdate().isoformat()
    assert_flat(
        lambda: page(f"/reports/weekly/?team={org.n1.pk}&week={week}"),
        _grow(org),
        shown=html_rows("member"),
        ceiling=20,
    )


@pytest.mark.parametrize("section", ["funnel", "movement", "activity"])
def test_xlsx_export_for_a_region(org, section):
    _busy_team(org, 2, 0)
    page = web(org.director)
    assert_flat(
        lambda: page(f"/reports/export/{section}.xlsx?region={org.north.pk}&date={timezone.localdate().isoformat()}"),
        _grow(org),
        shown=lambda r: len(r.content),
        ceiling=40,
    )


def test_movement_api_for_a_region(org):
    _busy_team(org, 2, 0)
    get = api(org.director)
    start = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert_flat(
        lambda: get("/api/v1/reports/movement", region=org.north.pk, **{"from": start}),
        _grow(org),
        shown=lambda r: r.json()["customers"],
        ceiling=6,
    )


@pytest.mark.parametrize("who", ["rep", "lead1", "director", "admin"])
def test_win_chance_fragment(org, who):
    """The customer page's win chance: the pool's counts (and a director's or admin's owned part)
    from snapshots, a rep's or team's own part in one query; nothing recounted per request."""
    _busy_team(org, 2, 0)
    target = customer(org, org.rep, "看胜率", 999)
    page = web(getattr(org, who))
    made = iter(range(2000, 3000))

    def grow():
        for _ in range(3):
            customer(org, None, f"公海{next(made)}", next(made))
        _busy_team(org, 1, 500 + next(made))

    # A fragment of one figure: what grows is the history behind it, so only the count is compared.
    get = lambda: page(f"/reports/customers/{target.pk}/win/")  # noqa: E731
    get()
    few, _r = queries(get)
    grow()
    many, _r = queries(get)
    assert many == few <= (5 if who in ("rep", "lead1") else 4), (few, many)
