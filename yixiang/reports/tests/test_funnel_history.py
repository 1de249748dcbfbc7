"""The funnel at a past date, counted in SQL, against a straightforward reference: every customer's
owner- and stage-change rows read into Python and replayed with rules.owner_at / rules.stage_at.

A hand-made customer who changed owner and stage several times, was released to the pool, recycled,
claimed again, deleted and restored; plus a seeded random history over many customers with ties
(two changes at the same instant), first rows without a former stage, first owner changes from a
named owner, customers created after the date, deleted before or after it."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from yixiang.customers.models import Customer
from yixiang.pipeline.models import OwnerChange, StageChange
from yixiang.reports import rules, selectors
from yixiang.reports.selectors import ReportFilters
from yixiang.reports.tests.data import at
from yixiang.testing import Org

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def reference(ids: list[int], when: dt.datetime) -> dict[int, dict[int, int]]:
    """Customers per owner and stage at ``when``, replayed in Python from all the rows."""
    owners: dict[int, list] = defaultdict(list)
    for cid, t, frm, to in OwnerChange.objects.order_by("customer_id", "at", "pk").values_list(
        "customer_id", "at", "from_owner_id", "to_owner_id"
    ):
        owners[cid].append((t, frm, to))
    stages: dict[int, list[rules.Change]] = defaultdict(list)
    for cid, t, frm, to in StageChange.objects.order_by("customer_id", "at", "pk").values_list(
        "customer_id", "at", "from_stage", "to_stage"
    ):
        stages[cid].append(rules.Change(t, frm, to))
    out: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for cid, created, stage, owner_now, deleted in Customer.objects.values_list(
        "pk", "created_at", "stage", "owner_id", "deleted_at"
    ):
        if deleted is not None and deleted <= when:
            continue
        owner = rules.owner_at(owners[cid], when, owner_now)
        s = rules.stage_at(rules.Timeline(created, stage, tuple(stages[cid])), when)
        if owner in ids and s is not None:
            out[owner][s] += 1
    return out


def plain(counts: dict[int, dict[int, int]]) -> dict[int, dict[int, int]]:
    return {o: {s: n for s, n in per.items() if n} for o, per in counts.items() if any(per.values())}


def fresh(org: Org, owner, name: str, created: dt.datetime, stage: int) -> Customer:
    c = org.customer(owner, name)
    OwnerChange.objects.filter(customer=c).delete()
    StageChange.objects.filter(customer=c).delete()
    Customer.objects.filter(pk=c.pk).update(created_at=created, stage=stage)
    return c


def own(c: Customer, when: dt.datetime, frm, to, reason: str) -> None:
    OwnerChange.objects.create(customer=c, at=when, from_owner=frm, to_owner=to, reason=reason)


def move(c: Customer, when: dt.datetime, frm: int | None, to: int, owner) -> None:
    StageChange.objects.create(customer=c, at=when, from_stage=frm, to_stage=to, owner=owner)


def build_wanderer(org: Org) -> Customer:
    """壬: distributed to rep (0), rep lifts it to 2, releases it; recycled twice between claims;
    teammate claims it and lifts it to 3; deleted; restored; handed to other_team_rep at 4."""
    rep, mate, other = org.rep, org.teammate, org.other_team_rep
    c = fresh(org, other, "壬", at(1, 1), 4)
    own(c, at(1, 1), None, rep, "distribute")
    move(c, at(1, 3), None, 0, rep)
    move(c, at(1, 6), 0, 2, rep)
    own(c, at(1, 10), rep, None, "release")
    own(c, at(1, 12), None, rep, "claim")
    move(c, at(1, 12), 2, 1, rep)  # same instant as the claim
    own(c, at(1, 20), rep, None, "recycle")
    own(c, at(2, 1), None, mate, "claim")
    move(c, at(2, 3), 1, 3, mate)
    move(c, at(2, 3), 3, 2, mate)  # taken back the same instant: the later row wins
    move(c, at(2, 5), 2, 3, mate)
    own(c, at(2, 15), mate, None, "recycle")
    own(c, at(2, 20), None, mate, "claim")
    Customer.objects.filter(pk=c.pk).update(deleted_at=at(3, 1))
    Customer.objects.filter(pk=c.pk).update(deleted_at=None)  # restored
    own(c, at(3, 10), mate, other, "handover")
    move(c, at(3, 12), 3, 4, other)
    return c


def dates() -> list[dt.datetime]:
    out = [at(m, d, h) for m in (1, 2, 3, 4) for d in (1, 3, 6, 10, 12, 15, 20, 25) for h in (9, 10, 11)]
    return out + [at(12, 31, 23, year=2024), at(6, 1)]


def test_wanderer_month_by_month(org):
    build_wanderer(org)
    ids = [org.rep.pk, org.teammate.pk, org.other_team_rep.pk]
    got = {when: plain(selectors._counts_at(ids, when)) for when in dates()}
    assert got == {when: plain(reference(ids, when)) for when in dates()}
    rep, mate, other = ids
    assert got[at(1, 1, 11)] == {rep: {0: 1}}  # before the first stage row: the stage it left
    assert got[at(1, 10, 11)] == {}  # in the pool
    assert got[at(1, 12, 10)] == {rep: {1: 1}}  # claimed and moved at that very instant
    assert got[at(2, 3, 10)] == {mate: {2: 1}}  # the later of two rows at the same instant
    assert got[at(2, 15, 11)] == {}  # recycled
    assert got[at(3, 10, 11)] == {other: {3: 1}}  # deleted and restored: counted throughout
    assert got[at(3, 12, 10)] == {other: {4: 1}}


def test_deleted_customers_count_until_their_deletion(org):
    c = fresh(org, org.rep, "癸", at(1, 1), 2)
    move(c, at(1, 5), 0, 2, org.rep)
    Customer.objects.filter(pk=c.pk).update(deleted_at=at(2, 1))
    ids = [org.rep.pk]
    assert plain(selectors._counts_at(ids, at(1, 31))) == {org.rep.pk: {2: 1}}
    assert plain(selectors._counts_at(ids, at(2, 1))) == {}
    assert plain(selectors._counts_at(ids, at(1, 3))) == {org.rep.pk: {0: 1}}


def build_random(org: Org, n: int = 60, seed: int = 7) -> list:
    """``n`` customers with a seeded random history; returns the people who may own them."""
    rnd = random.Random(seed)
    people = [org.rep, org.teammate, org.other_team_rep, org.outsider, None]
    build_wanderer(org)
    for i in range(n):
        created = at(1, 1) + dt.timedelta(hours=rnd.randrange(0, 24 * 60))
        owner_now = rnd.choice(people)
        moments = sorted(created + dt.timedelta(hours=rnd.randrange(-48, 24 * 60)) for _ in range(rnd.randrange(0, 7)))
        if moments and rnd.random() < 0.3:
            moments.append(moments[-1])  # a tie
        stage = rnd.choice([0, 1])
        c = fresh(org, owner_now, f"客{i}", created, 0)
        for j, when in enumerate(moments):
            to = rnd.choice([-1, 0, 1, 2, 3, 4, 5])
            move(c, when, None if j == 0 and rnd.random() < 0.3 else stage, to, owner_now)
            stage = to
        Customer.objects.filter(pk=c.pk).update(stage=stage)
        holder = rnd.choice(people) if rnd.random() < 0.7 else owner_now
        hands = sorted(created + dt.timedelta(hours=rnd.randrange(0, 24 * 60)) for _ in range(rnd.randrange(0, 5)))
        if hands and rnd.random() < 0.2:
            hands.append(hands[-1])
        for when in hands:
            nxt = rnd.choice(people)
            own(c, when, holder, nxt, "handover")
            holder = nxt
        if hands and rnd.random() < 0.8:
            Customer.objects.filter(pk=c.pk).update(owner=holder)
        if rnd.random() < 0.15:
            Customer.objects.filter(pk=c.pk).update(deleted_at=created + dt.timedelta(days=rnd.randrange(1, 60)))
    return people


def test_random_histories_match_the_reference(org):
    people = build_random(org)
    everyone = [u.pk for u in people if u]
    for ids in (everyone, [org.rep.pk], [org.rep.pk, org.teammate.pk], [org.outsider.pk]):
        for when in dates():
            assert plain(selectors._counts_at(ids, when)) == plain(reference(ids, when)), (ids, when)
    # And through the report: per rep, team and region.
    report = selectors.funnel(user=org.admin, f=ReportFilters(TODAY, TODAY, as_of=dt.date(2025, 2, 10)), today=TODAY)
    expected = plain(reference([u.pk for u in people if u], selectors._end_of(dt.date(2025, 2, 10))))
    assert {r.id: {s: n for s, n in r.counts.items() if n} for r in report.reps if r.total} == expected
