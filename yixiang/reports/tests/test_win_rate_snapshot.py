"""The win-chance table as pool snapshot + the viewer's live owned part (issue 7) against the old
single query over everything the viewer may see, kept here as the reference; the snapshot's
periodic refresh and the recount of a missing or stale snapshot."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from yixiang.accounts.models import User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.models import Customer
from yixiang.customers.scoping import visible_customers
from yixiang.reports import history, rules, tasks, win_rates
from yixiang.reports.models import WinRateSnapshot
from yixiang.reports.tests import data
from yixiang.reports.tests.test_funnel_history import build_random
from yixiang.reports.tests.test_views import client_for

pytestmark = pytest.mark.django_db


def reference_table(user: User) -> dict[int, rules.WinRate]:
    """The computation before the snapshot: one query over the history of every customer the
    viewer may see (own scope + the pool) or whose stage their staff changed."""
    ids = list(staff_in_scope(user).values_list("pk", flat=True))
    qs = Customer.objects.filter(
        Q(pk__in=visible_customers(user).values("pk")) | Q(stage_changes__owner_id__in=ids),
        deleted_at__isnull=True,
    ).distinct()
    return history.movement(qs).win_rates


def viewers(org) -> list[User]:
    return [
        org.rep,
        org.teammate,
        org.other_team_rep,
        org.outsider,
        org.lead1,
        org.lead2,
        org.south_lead,
        org.director,
        org.south_director,
        org.admin,
    ]


@pytest.mark.parametrize("seed", [7, 11])
def test_snapshot_plus_live_part_equals_the_old_table(org, seed):
    build_random(org, n=60, seed=seed)
    data.build(org)
    # An inactive rep: the scope still shows the customers they own but no longer the ones they
    # only worked (staff_in_scope is active staff) — both computations must agree on that too.
    User.objects.filter(pk=org.teammate.pk).update(is_active=False)
    org.teammate.refresh_from_db()
    for user in viewers(org):
        if user == org.teammate:
            continue
        expected = reference_table(user)
        assert any(r.reached for r in expected.values()), user
        got = win_rates.win_rates_for(user)
        assert got.table == expected, user.username
        assert got.as_of is not None
    # The parts really split: the pool's counts alone differ from a rep's table.
    pool = WinRateSnapshot.objects.get(part=WinRateSnapshot.Part.POOL)
    assert win_rates._table(pool.counts) != reference_table(org.rep)


def test_periodic_refresh_writes_both_parts(org):
    data.build(org)
    build_random(org, n=20, seed=3)  # some in the pool
    assert not WinRateSnapshot.objects.exists()
    tasks.win_rate_snapshot_tick.call_local()
    snaps = {s.part: s for s in WinRateSnapshot.objects.all()}
    assert set(snaps) == {"pool", "owned", f"region:{org.north.pk}", f"region:{org.south.pk}"}
    # A region's part is its directors' owned part.
    north = history.movement(win_rates.owned_customers(org.director)).win_rates
    assert win_rates._table(snaps[f"region:{org.north.pk}"].counts) == north
    pool = history.movement(win_rates.pool_customers()).win_rates
    owned = history.movement(win_rates.owned_customers()).win_rates
    assert win_rates._table(snaps["pool"].counts) == pool
    assert win_rates._table(snaps["owned"].counts) == owned
    assert any(r.reached for r in pool.values()) and any(r.reached for r in owned.values())
    # A second run updates the rows in place.
    first = snaps["pool"].computed_at
    tasks.win_rate_snapshot_tick.call_local()
    assert WinRateSnapshot.objects.count() == 4
    assert WinRateSnapshot.objects.get(part="pool").computed_at >= first


def _plant(part: str, counts: dict[str, list[int]], age: dt.timedelta) -> None:
    WinRateSnapshot.objects.update_or_create(
        part=part, defaults={"counts": counts, "computed_at": timezone.now() - age}
    )


def test_a_fresh_snapshot_is_used_and_a_stale_one_recounted(org, settings):
    built = data.build(org)
    settings.YIXIANG = {**settings.YIXIANG, "WIN_RATE_SNAPSHOT_MAX_AGE_MINUTES": 60}
    bogus = {"1": [1000, 500]}
    # Fresh (30 minutes): used as it is — the rep's stage-1 count includes its 1000.
    _plant("pool", bogus, dt.timedelta(minutes=30))
    got = win_rates.win_rates_for(org.rep)
    assert got.table[1].reached >= 1000
    assert timezone.now() - got.as_of >= dt.timedelta(minutes=29)
    # Stale (61 minutes): recounted, and the table is the old computation's again.
    _plant("pool", bogus, dt.timedelta(minutes=61))
    got = win_rates.win_rates_for(org.rep)
    assert got.table == reference_table(org.rep)
    assert timezone.now() - got.as_of < dt.timedelta(minutes=1)
    # Admins and directors read both parts from snapshots; a stale owned part is recounted too.
    _plant("owned", bogus, dt.timedelta(days=1))
    assert win_rates.win_rates_for(org.admin).table == reference_table(org.admin)
    _plant(f"region:{org.north.pk}", bogus, dt.timedelta(minutes=5))
    assert win_rates.win_rates_for(org.director).table[1].reached >= 1000
    _plant(f"region:{org.north.pk}", bogus, dt.timedelta(minutes=90))
    assert win_rates.win_rates_for(org.director).table == reference_table(org.director)
    # The fragment says how old the history behind it is.
    _plant("pool", WinRateSnapshot.objects.get(part="pool").counts, dt.timedelta(minutes=30))
    as_of = timezone.localtime(WinRateSnapshot.objects.get(part="pool").computed_at)
    body = client_for(org.rep).get(reverse("reports_win_probability", args=[built.c2.pk])).content.decode()
    assert as_of.strftime("%Y-%m-%d %H:%M") in body


def test_missing_snapshot_is_counted_on_demand(org):
    built = data.build(org)
    assert not WinRateSnapshot.objects.exists()
    p = win_rates.win_probability(built.c2, fetched_by=org.lead1)
    assert WinRateSnapshot.objects.filter(part="pool").exists()
    rate = reference_table(org.lead1)[built.c2.stage]
    assert (p.reached, p.signed) == (rate.reached, rate.signed)
