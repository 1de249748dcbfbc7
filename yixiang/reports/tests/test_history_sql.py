"""Conversion, days in stage and win rates counted in SQL (reports.history) against the reference:
every customer's stage-change rows read into Python and replayed with rules.conversions /
rules.median_days_in_stage / rules.win_rates, on the seeded random histories of
test_funnel_history (ties, first rows without a former stage, changes before the creation date,
changes that keep the stage)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from yixiang.customers.models import Customer
from yixiang.pipeline.models import StageChange
from yixiang.reports import history, rules, selectors
from yixiang.reports.selectors import ReportFilters
from yixiang.reports.tests import data
from yixiang.reports.tests.data import at
from yixiang.reports.tests.test_funnel_history import build_random

pytestmark = pytest.mark.django_db


def timelines(customers) -> list[rules.Timeline]:
    ids = customers.values("pk")
    changes: dict[int, list[rules.Change]] = defaultdict(list)
    for cid, t, frm, to in (
        StageChange.objects.filter(customer_id__in=ids)
        .order_by("customer_id", "at", "pk")
        .values_list("customer_id", "at", "from_stage", "to_stage")
    ):
        changes[cid].append(rules.Change(t, frm, to))
    return [
        rules.Timeline(created, stage, tuple(changes[cid]))
        for cid, created, stage in Customer.objects.filter(pk__in=ids).values_list("pk", "created_at", "stage")
    ]


PERIODS = [
    (at(1, 1), at(2, 1)),
    (at(1, 15), at(1, 16)),
    (at(2, 1), at(3, 1)),
    (at(1, 12, 10), at(2, 3, 10)),  # bounds on change instants
    (at(1, 1, year=2024), at(1, 1, year=2027)),
]


@pytest.mark.parametrize("seed", [7, 8])
def test_sql_movement_matches_the_reference(org, seed):
    build_random(org, n=50, seed=seed)
    data.build(org)
    for customers in (
        Customer.objects.all(),
        Customer.objects.filter(owner=org.rep),
        selectors.movement_customers([org.rep.pk, org.teammate.pk]),
    ):
        tls = timelines(customers)
        whole = history.movement(customers)
        assert whole.win_rates == rules.win_rates(tls)
        assert whole.customers == customers.count() > 0  # counted by the same statement
        for start, end in PERIODS:
            got = history.movement(customers, start, end)
            assert got.conversions == rules.conversions(tls, start, end), (start, end)
            assert got.durations == rules.median_days_in_stage(tls, start, end), (start, end)
            assert got.win_rates == rules.win_rates(tls)
            assert got.customers == whole.customers


def test_win_rate_table_and_report_match_the_reference(org):
    build_random(org, n=40, seed=9)
    ids = [org.rep.pk, org.teammate.pk]
    f = ReportFilters(dt.date(2025, 1, 10), dt.date(2025, 2, 10), team=org.n1.pk)
    report = selectors.movement(user=org.lead1, f=f)
    customers = selectors.movement_customers(ids + [org.lead1.pk])
    tls = timelines(customers)
    assert report.customers == len(tls) > 0
    assert report.conversions == rules.conversions(tls, f.start, f.end)
    assert report.durations == rules.median_days_in_stage(tls, f.start, f.end)
    assert report.win_rates == rules.win_rates(tls)
    assert any(c.entered for c in report.conversions)
    assert any(d.stints for d in report.durations)
