"""Incentive totals per person and region, read from the incentive app's monthly statements."""

from __future__ import annotations

import datetime as dt

import pytest

from yixiang.incentives.tests.factories import assess, developed
from yixiang.reports import incentive_figures
from yixiang.reports.selectors import ReportFilters

pytestmark = pytest.mark.django_db

FEB, MAR = dt.date(2025, 2, 1), dt.date(2025, 3, 1)
PERIOD = ReportFilters(date_from=dt.date(2025, 2, 10), date_to=dt.date(2025, 3, 31))


@pytest.fixture
def march(org):
    """March 2025 under the shipped default scheme (2012 onwards):
    rep: threshold 2, nothing developed → −800; teammate: threshold 1, two valid customers of 8,000
    → the second earns +200; outsider (south): threshold 1, none → −500. The north director's
    threshold is 2 + 1 = 3 against 2 valid customers → −300; the south director's 1 against 0 → −300."""
    assess(org.rep, MAR, 2)
    assess(org.teammate, MAR, 1)
    developed(org, org.teammate, 8000, dt.date(2025, 3, 5))
    developed(org, org.teammate, 8000, dt.date(2025, 3, 9))
    assess(org.outsider, MAR, 1)
    return org


def totals(report) -> dict[str, list[int]]:
    return {p.name: p.totals for p in report.people}


def test_monthly_totals_per_person_and_region(march):
    org = march
    r = incentive_figures.incentives(user=org.admin, f=PERIOD)
    assert r.months == [FEB, MAR] and r.missing_months == []
    assert totals(r) == {
        "rep": [0, -800],
        "teammate": [0, 200],
        "director": [0, -300],
        "outsider": [0, -500],
        "south_director": [0, -300],
    }
    assert r.regions == {"华北大区": [0, -900], "华南大区": [0, -800]}
    # The penalty fund: 800 + 300 + 300 + 500 collected, 200 paid out as the teammate's reward.
    march_fund = r.fund[-1]
    assert (march_fund["penalties"], march_fund["from_penalties"], march_fund["fund_after"]) == (1900, 200, 1700)


def test_incentive_scoping(march):
    org = march
    assert totals(incentive_figures.incentives(user=org.rep, f=PERIOD)) == {"rep": [0, -800]}
    lead = incentive_figures.incentives(user=org.lead1, f=PERIOD)
    assert totals(lead) == {"rep": [0, -800], "teammate": [0, 200]}
    assert lead.fund is None  # the fund is company-wide: administrators only
    director = incentive_figures.incentives(user=org.director, f=PERIOD)
    assert set(totals(director)) == {"rep", "teammate", "director"}
    assert director.regions == {"华北大区": [0, -900]}
    narrowed = incentive_figures.incentives(
        user=org.admin, f=ReportFilters(date_from=MAR, date_to=MAR, region=org.south.pk)
    )
    assert totals(narrowed) == {"outsider": [-500], "south_director": [-300]}


def test_months_without_a_scheme_are_named(org):
    r = incentive_figures.incentives(
        user=org.admin, f=ReportFilters(date_from=dt.date(2010, 11, 1), date_to=dt.date(2011, 3, 31))
    )
    # The shipped scheme starts in March 2011.
    assert r.missing_months == [dt.date(2010, 11, 1), dt.date(2010, 12, 1), dt.date(2011, 1, 1), dt.date(2011, 2, 1)]
    assert r.months == [dt.date(2011, 3, 1)]
