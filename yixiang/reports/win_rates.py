"""Win rates learned from history, behind every customer page's win chance: the shared snapshot
parts (the pool, all owned customers, a region's) are read here and recounted when missing or stale,
the viewer's own part is counted live."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.models import Customer
from yixiang.customers.scoping import visible_customers
from yixiang.pipeline.models import StageChange
from yixiang.reports import history, rules
from yixiang.reports.conf import conf
from yixiang.reports.models import WinRateSnapshot


def pool_customers() -> QuerySet[Customer]:
    """The public pool: visible to every viewer, so its share of a win-chance table is company-wide."""
    return Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True)


def owned_customers(user: User | None = None) -> QuerySet[Customer]:
    """Owned customers whose history counts in ``user``'s win-chance table: owned in their scope or
    formerly worked by their staff (a stage change under them). None: every owned customer (the
    admins' part). Disjoint from :func:`pool_customers`; the two make up the old single query's set
    (``visible_customers(user)`` ∪ worked by ``staff_in_scope(user)``, not deleted)."""
    qs = Customer.objects.filter(owner__isnull=False, deleted_at__isnull=True)
    if user is None:
        return qs
    # A UNION of two index-driven reads (owner; the stage changes' owner), not an OR over every
    # owned customer: the databases would scan all owned rows to test the OR.
    mine = visible_customers(user, include_pool=False).order_by().values("pk")
    worked = StageChange.objects.filter(owner_id__in=staff_in_scope(user).values("pk")).order_by().values("customer_id")
    return qs.filter(pk__in=mine.union(worked))


def _counts(table: dict[int, rules.WinRate]) -> dict[str, list[int]]:
    return {str(k): [r.reached, r.signed] for k, r in table.items()}


def _table(*counts: dict[str, list[int]]) -> dict[int, rules.WinRate]:
    """The sum of per-stage (reached, signed) counts: parts over disjoint customers add up."""
    out = {k: rules.WinRate(k, 0, 0) for k in rules.STAGES}
    for part in counts:
        for k, (reached, signed) in part.items():
            r = out[int(k)]
            out[int(k)] = rules.WinRate(r.stage, r.reached + reached, r.signed + signed)
    return out


def region_director(region_id: int) -> User:
    """An unsaved active director of the region: its scope (scoping.py) is every director's of that
    region, so their owned part is one snapshot."""
    return User(role=Role.DIRECTOR, region_id=region_id, is_active=True)


def win_rate_counts(part: str) -> dict[str, list[int]]:
    """Count a snapshot part now (reports.history: one query over the part's whole history)."""
    if part == WinRateSnapshot.Part.POOL:
        qs = pool_customers()
    elif part == WinRateSnapshot.Part.OWNED:
        qs = owned_customers()
    elif part.startswith(WinRateSnapshot.REGION_PREFIX):
        qs = owned_customers(region_director(int(part.removeprefix(WinRateSnapshot.REGION_PREFIX))))
    else:
        raise ValueError(f"unknown win-rate snapshot part {part!r}")
    return _counts(history.movement(qs).win_rates)


def win_rate_snapshots(parts: list[str], *, now: dt.datetime | None = None) -> list[WinRateSnapshot]:
    """The snapshot rows of ``parts`` (one query); a missing one or one older than
    WIN_RATE_SNAPSHOT_MAX_AGE_MINUTES (the worker's refresh did not run) is recounted here."""
    now = now or timezone.now()
    oldest = now - dt.timedelta(minutes=conf("WIN_RATE_SNAPSHOT_MAX_AGE_MINUTES"))
    rows = {r.part: r for r in WinRateSnapshot.objects.filter(part__in=parts)}
    out = []
    for part in parts:
        row = rows.get(part)
        if row is None or row.computed_at < oldest:
            row = win_rate_snapshot_refresh(part)
        out.append(row)
    return out


@dataclass(frozen=True)
class WinRates:
    table: dict[int, rules.WinRate]
    as_of: dt.datetime | None  # the history counted ends here (the oldest snapshot used); None: live


def win_rates_for(user: User) -> WinRates:
    """The win rates learned from the history ``user`` may see: the public pool and the customers
    of their scope, now or formerly worked by it. The pool's counts come from a shared snapshot
    (admins': the owned customers' too), the viewer's own part is counted live."""
    if not user.is_authenticated or not user.is_active:
        return WinRates(_table(), None)
    # A region's owned part (~22,000 customers at any scale, a second of counting) and the whole
    # owned part are snapshots too; a team's or a rep's (a few thousand) is counted live.
    if user.is_admin_role or (user.role == Role.DIRECTOR and user.region_id is not None):
        part = WinRateSnapshot.Part.OWNED if user.is_admin_role else WinRateSnapshot.region_part(user.region_id)
        snaps = win_rate_snapshots([WinRateSnapshot.Part.POOL, part])
        return WinRates(_table(*(s.counts for s in snaps)), min(s.computed_at for s in snaps))
    (pool,) = win_rate_snapshots([WinRateSnapshot.Part.POOL])
    own = _counts(history.movement(owned_customers(user)).win_rates)
    return WinRates(_table(pool.counts, own), pool.computed_at)


def win_rate_table(*, fetched_by: User) -> dict[int, rules.WinRate]:
    """Win rates learned from the history the viewer may see (see :func:`win_rates_for`)."""
    return win_rates_for(fetched_by).table


@dataclass(frozen=True)
class WinProbability:
    customer_id: int
    stage: int
    probability: float | None  # None: not enough history for this stage
    reached: int
    signed: int
    min_sample: int
    as_of: dt.datetime | None = None  # the history behind it ends here (a snapshot); None: live

    @property
    def percent(self) -> int | None:
        return None if self.probability is None else round(self.probability * 100)


def win_probability(
    customer: Customer, *, fetched_by: User, table: dict[int, rules.WinRate] | WinRates | None = None
) -> WinProbability:
    """The chance this customer signs, read from the win rate of its stage. Pass ``table`` (from
    :func:`win_rates_for` or :func:`win_rate_table`) when showing many customers, so history is read once."""
    rates = table if table is not None else win_rates_for(fetched_by)
    as_of = rates.as_of if isinstance(rates, WinRates) else None
    by_stage = rates.table if isinstance(rates, WinRates) else rates
    rate = by_stage.get(customer.stage) or rules.WinRate(customer.stage, 0, 0)
    min_sample = conf("WIN_RATE_MIN_SAMPLE")
    return WinProbability(
        customer.pk, customer.stage, rate.probability(min_sample), rate.reached, rate.signed, min_sample, as_of
    )


def win_rate_snapshot_refresh(part: str) -> WinRateSnapshot:
    """Recount the win-rate snapshot ``part`` (WinRateSnapshot.Part) and store it. Its time is taken
    before counting: the history counted is at least as new as that."""
    now = timezone.now()
    counts = win_rate_counts(part)
    row, _created = WinRateSnapshot.objects.update_or_create(part=part, defaults={"counts": counts, "computed_at": now})
    return row


def win_rate_snapshots_refresh() -> dict[str, str]:
    """Recount every snapshot part (the worker's periodic job): the pool, all owned customers and
    the owned part of each region with an active director."""
    regions = (
        User.objects.filter(role=Role.DIRECTOR, is_active=True, region__isnull=False)
        .order_by("region_id")
        .values_list("region_id", flat=True)
        .distinct()
    )
    parts = [*WinRateSnapshot.Part.values, *(WinRateSnapshot.region_part(r) for r in regions)]
    return {p: str(win_rate_snapshot_refresh(p).computed_at) for p in parts}
