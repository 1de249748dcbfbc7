"""The funnel at a past date from the daily snapshots equals the funnel replayed from the history.

The history is made through the services (create, follow-ups that lift and drop the stage,
release, claim, hand-over); after each step the rows it wrote are moved back to that step's day
(the services stamp "now"), so the history spans past days as a real one does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.utils import timezone

from yixiang.customers.models import Customer
from yixiang.pipeline import pool, services
from yixiang.pipeline.models import OwnerChange, StageChange
from yixiang.reports import funnel_snapshots, selectors
from yixiang.reports.models import FunnelSnapshot, FunnelSnapshotDay
from yixiang.reports.selectors import ReportFilters
from yixiang.reports.tests.test_funnel_history import build_random, plain, reference

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
BASE = TODAY - dt.timedelta(days=30)  # the history's first day


def moment(day: int, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(BASE + dt.timedelta(days=day), dt.time(hour)))


def step(day: int, hour: int, action: Callable[[], object]) -> object:
    """Run ``action`` through the services, then date the rows it wrote ``day`` days after BASE."""
    sc = StageChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    oc = OwnerChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    cust = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    out = action()
    when = moment(day, hour)
    StageChange.objects.filter(pk__gt=sc).update(at=when)
    OwnerChange.objects.filter(pk__gt=oc).update(at=when)
    Customer.objects.filter(pk__gt=cust).update(created_at=when)
    return out


def judge(actor, customer: Customer, stage: int) -> None:
    services.followup_log(actor=actor, customer=Customer.objects.get(pk=customer.pk), stage=stage, summary="电话沟通")


def build_history(org) -> None:
    rep, mate, other = org.rep, org.teammate, org.other_team_rep
    a, b, c, d = (step(0, 9 + i, lambda i=i: org.customer(rep, f"客户{i}")) for i in range(4))
    e = step(0, 14, lambda: org.customer(mate, "客户E"))
    f = step(1, 9, lambda: org.customer(None, "公海F"))
    step(1, 10, lambda: judge(rep, a, 2))
    step(1, 11, lambda: judge(rep, b, 1))
    step(1, 12, lambda: judge(rep, c, 3))
    step(1, 13, lambda: judge(mate, e, 1))
    step(2, 10, lambda: judge(rep, a, 1))  # a fall: 2 → 1
    step(2, 11, lambda: judge(rep, c, 4))
    step(3, 10, lambda: pool.customer_release(actor=rep, customer=b, reason="no_rise"))
    step(3, 11, lambda: pool.claim_from_pool(actor=mate, customer=f))
    step(4, 10, lambda: pool.customer_hand_over(actor=org.lead1, customer=a, to_user=mate))
    step(4, 15, lambda: judge(mate, a, 3))
    step(5, 10, lambda: pool.claim_from_pool(actor=mate, customer=b))
    step(5, 11, lambda: judge(mate, b, 0))  # a fall: 1 → 0
    step(6, 10, lambda: judge(rep, c, 2))  # a fall: 4 → 2
    step(6, 11, lambda: judge(rep, d, -1))  # to rejecting
    step(7, 10, lambda: pool.customer_hand_over(actor=org.director, customer=c, to_user=other))
    step(8, 10, lambda: judge(other, c, 3))
    step(9, 10, lambda: Customer.objects.filter(pk=e.pk).update(deleted_at=moment(9, 10)))


def report_counts(user, day: dt.date, **scope) -> dict:
    report = selectors.funnel(user=user, f=ReportFilters(TODAY, TODAY, as_of=day, **scope), today=TODAY)
    return {
        "reps": {r.id: r.counts for r in report.reps},
        "teams": {r.id: r.counts for r in report.teams},
        "regions": {r.id: r.counts for r in report.regions},
        "total": report.total.counts,
    }


def days() -> list[dt.date]:
    return [BASE + dt.timedelta(days=i) for i in range(-2, 12)]


def test_snapshots_equal_the_history_replay(org, monkeypatch):
    build_history(org)
    views = [(org.admin, {}), (org.director, {"region": org.north.pk}), (org.lead1, {"team": org.n1.pk})]
    live = {(u.pk, d): report_counts(u, d, **kw) for u, kw in views for d in days()}
    # The history is not empty: the teammate's customers on day 4 after the hand-over.
    mate_day4 = live[(org.admin.pk, BASE + dt.timedelta(days=4))]["reps"][org.teammate.pk]
    assert {s: n for s, n in mate_day4.items() if n} == {0: 1, 1: 1, 3: 1}  # f claimed, e, a handed over

    call_command("funnel_snapshots", "--backfill", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert FunnelSnapshotDay.objects.filter(day=TODAY - dt.timedelta(days=1)).exists()
    assert FunnelSnapshot.objects.exists()

    # Days before the history have no snapshot (replayed: nothing); from its first day on, a past
    # day may only come from the snapshot.
    before = {(u.pk, d): report_counts(u, d, **kw) for u, kw in views for d in days() if d < BASE}

    def no_replay(*args, **kwargs):
        raise AssertionError("replayed the history for a snapshotted day")

    monkeypatch.setattr(selectors, "_counts_at", no_replay)
    snap = {(u.pk, d): report_counts(u, d, **kw) for u, kw in views for d in days() if d >= BASE}
    assert before | snap == live


def test_nightly_run_counts_what_the_replay_counts(org):
    build_history(org)
    ids = [org.rep.pk, org.teammate.pk, org.other_team_rep.pk]
    # The worker was down: a run on BASE + 6 fills the last CATCHUP days up to BASE + 5.
    result = funnel_snapshots.funnel_snapshots_refresh(today=BASE + dt.timedelta(days=6))
    filled = [BASE + dt.timedelta(days=i) for i in range(-1, 6)]
    assert result["days"] == [d.isoformat() for d in filled]
    for d in filled:
        assert plain(selectors._counts_snapshot(ids, d)) == plain(selectors._counts_at(ids, selectors._end_of(d)))
    # The next night: only the new day; a second run the same night replaces it.
    assert funnel_snapshots.funnel_snapshots_refresh(today=BASE + dt.timedelta(days=7))["days"] == [
        (BASE + dt.timedelta(days=6)).isoformat()
    ]
    funnel_snapshots.funnel_snapshots_refresh(today=BASE + dt.timedelta(days=7))
    assert FunnelSnapshotDay.objects.count() == 8
    day6 = BASE + dt.timedelta(days=6)
    assert plain(selectors._counts_snapshot(ids, day6)) == plain(selectors._counts_at(ids, selectors._end_of(day6)))
    assert selectors._counts_snapshot(ids, BASE + dt.timedelta(days=7)) is None  # not taken: replayed live


def test_backfill_of_random_histories_matches_the_reference(org):
    """The seeded random histories of test_funnel_history (ties, first rows without a former stage,
    deletions, customers created after the date) through the backfill."""
    from yixiang.reports.tests.test_funnel_history import TODAY as HIST_TODAY

    people = build_random(org)
    ids = [u.pk for u in people if u]
    funnel_snapshots.funnel_snapshots_backfill(until=HIST_TODAY)
    first = FunnelSnapshotDay.objects.order_by("day").values_list("day", flat=True).first()
    for i in range(0, (HIST_TODAY - first).days + 1, 3):
        d = first + dt.timedelta(days=i)
        assert plain(selectors._counts_snapshot(ids, d)) == plain(reference(ids, selectors._end_of(d))), d
