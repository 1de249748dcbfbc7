"""Funnel, conversion, days in stage and win rates on the hand-made history of tests/data.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from yixiang.reports import selectors, win_rates
from yixiang.reports.selectors import ReportFilters
from yixiang.reports.tests import data

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def F(**kw) -> ReportFilters:
    kw.setdefault("date_from", dt.date(2025, 1, 1))
    kw.setdefault("date_to", dt.date(2025, 1, 31))
    return ReportFilters(**kw)


def counts(row) -> dict[int, int]:
    return {stage: n for stage, n in row.counts.items() if n}


def test_funnel_at_a_past_date_from_the_change_rows(org):
    data.build(org)
    report = selectors.funnel(user=org.admin, f=F(as_of=dt.date(2025, 1, 31)), today=TODAY)
    # 31 Jan: 甲 2 and 乙 3 (rep); 丁 2 and 庚 1 (teammate: 庚 reached rep only on 1 Feb);
    # 戊 4 (other team); 己 2 (south); 丙 not created yet.
    reps = {r.name: counts(r) for r in report.reps}
    assert reps["rep"] == {2: 1, 3: 1}
    assert reps["teammate"] == {1: 1, 2: 1}
    assert reps["other_team_rep"] == {4: 1}
    assert reps["outsider"] == {2: 1}
    teams = {r.name: counts(r) for r in report.teams}
    assert teams["北一组"] == {1: 1, 2: 2, 3: 1}
    regions = {r.name: counts(r) for r in report.regions}
    assert regions["华北大区"] == {1: 1, 2: 2, 3: 1, 4: 1}
    assert regions["华南大区"] == {2: 1}
    assert counts(report.total) == {1: 1, 2: 3, 3: 1, 4: 1}
    assert report.as_of == dt.date(2025, 1, 31)


def test_funnel_on_later_past_dates(org):
    data.build(org)
    # 10 Feb: 甲 3, 乙 1 (dropped back that day), 丙 0, 庚 1 (now the rep's); 丁 rejecting.
    report = selectors.funnel(user=org.lead1, f=F(as_of=dt.date(2025, 2, 10)), today=TODAY)
    reps = {r.name: counts(r) for r in report.reps}
    assert reps == {"rep": {0: 1, 1: 2, 3: 1}, "teammate": {-1: 1}}
    # Before anything existed: nothing.
    report = selectors.funnel(user=org.admin, f=F(as_of=dt.date(2024, 12, 31)), today=TODAY)
    assert report.total.total == 0


def test_funnel_now_and_the_tracked_list_targets(org):
    data.build(org)
    report = selectors.funnel(user=org.lead1, f=F(), today=TODAY)
    assert report.as_of is None
    reps = {r.name: r for r in report.reps}
    assert counts(reps["rep"]) == {0: 1, 1: 2, 5: 1}
    bands = {b.band: (b.count, b.target, b.status) for b in reps["rep"].bands}
    # One rep: targets 20 / 40 / 10; one customer at 0, two at 1–2, none at 3–4: all low.
    assert bands == {"0": (1, 20, "low"), "1-2": (2, 40, "low"), "3-4": (0, 10, "low")}
    team = report.teams[0]
    assert team.reps == 2  # rep and teammate: the targets double
    assert {b.band: b.target for b in team.bands} == {"0": 40, "1-2": 80, "3-4": 20}


def test_funnel_scoping(org):
    data.build(org)
    # A rep sees only their own figures, even when asking for the team.
    report = selectors.funnel(user=org.rep, f=F(team=org.n1.pk), today=TODAY)
    assert [r.name for r in report.reps] == ["rep"]
    assert counts(report.total) == {0: 1, 1: 2, 5: 1}
    with pytest.raises(Http404):
        selectors.funnel(user=org.rep, f=F(rep=org.teammate.pk), today=TODAY)
    # A lead sees the team, never another team.
    report = selectors.funnel(user=org.lead1, f=F(), today=TODAY)
    assert {r.name for r in report.reps} == {"rep", "teammate"}
    with pytest.raises(Http404):
        selectors.funnel(user=org.lead1, f=F(rep=org.other_team_rep.pk), today=TODAY)
    with pytest.raises(Http404):
        selectors.funnel(user=org.lead1, f=F(team=org.n2.pk), today=TODAY)
    # A director sees the region and may narrow it to a team; the other region is not found.
    report = selectors.funnel(user=org.director, f=F(team=org.n2.pk), today=TODAY)
    assert [r.name for r in report.reps] == ["other_team_rep"]
    with pytest.raises(Http404):
        selectors.funnel(user=org.director, f=F(region=org.south.pk), today=TODAY)


def test_movement_for_a_rep(org):
    data.build(org)
    report = selectors.movement(user=org.lead1, f=F(rep=org.rep.pk))
    conv = {c.stage: (c.entered, c.advanced) for c in report.conversions}
    # January, the rep's customers 甲 乙 庚 (丙 came in February): stage 0: 甲 advanced (1/1);
    # stage 1: 甲 and 乙 advanced, 庚 stayed (2/3); stage 2: 甲 until 1 Feb (0/1); stage 3: 乙 (0/1).
    assert conv[0] == (1, 1)
    assert conv[1] == (3, 2)
    assert conv[2] == (1, 0)
    assert conv[3] == (1, 0)
    durations = {d.stage: (d.median_days, d.stints) for d in report.durations}
    # Stays ended in January: 0: 甲 9 days; 1: 甲 10 and 乙 20 → 15.
    assert durations[0] == (9.0, 1)
    assert durations[1] == (15.0, 2)
    rates = report.win_rates
    # 甲 signed: every stage it went through (0, 1, 2, 3) has one signing.
    assert (rates[1].reached, rates[1].signed) == (3, 1)  # 甲, 乙, 庚
    assert (rates[3].reached, rates[3].signed) == (2, 1)  # 甲, 乙


def test_a_lost_customer_still_counts_for_the_rep_who_worked_it(org):
    built = data.build(org)
    # 乙 goes to the other team; its past under the rep stays in the rep's conversion.
    type(built.c2).objects.filter(pk=built.c2.pk).update(owner=org.other_team_rep)
    report = selectors.movement(user=org.rep, f=F())
    assert {c.stage: c.entered for c in report.conversions}[3] == 1


def test_win_probability_uses_the_viewers_history(org, settings):
    built = data.build(org)
    settings.YIXIANG = {**settings.YIXIANG, "WIN_RATE_MIN_SAMPLE": 2}
    # Admin: ever in stage 1: 甲 乙 庚 → 1 of 3 signed.
    p = win_rates.win_probability(built.c2, fetched_by=org.admin)
    assert (p.stage, p.reached, p.signed, p.percent) == (1, 3, 1, 33)
    # The outsider's history: only 己 (stage 0 → 2) — nothing signed, one customer in stage 2.
    table = win_rates.win_rate_table(fetched_by=org.outsider)
    assert (table[2].reached, table[2].signed) == (1, 0)
    assert win_rates.win_probability(built.c6, fetched_by=org.outsider, table=table).probability is None
    assert win_rates.win_probability(built.c1, fetched_by=org.rep).probability == 1.0


def test_report_queries_do_not_grow_with_rows(org, django_assert_max_num_queries):
    data.build(org)
    with django_assert_max_num_queries(5):
        selectors.funnel(user=org.admin, f=F(as_of=dt.date(2025, 1, 31)), today=TODAY)
    with django_assert_max_num_queries(3):
        selectors.movement(user=org.admin, f=F())
    for i in range(30):
        c = data.customer(org, org.rep, f"加{i}", created=data.at(1, 1), stage=2)
        data.change(c, data.at(1, 2), 0, 2, org.rep)
    with django_assert_max_num_queries(5):
        selectors.funnel(user=org.admin, f=F(as_of=dt.date(2025, 1, 31)), today=TODAY)
    with django_assert_max_num_queries(3):
        selectors.movement(user=org.admin, f=F())
