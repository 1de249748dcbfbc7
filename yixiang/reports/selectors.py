"""Reads behind every report. Each starts from the viewer's scope (``staff_in_scope`` /
``visible_customers``), narrowed by the filters (rep, team, region, period), and runs a fixed number
of queries whatever the number of customers (pinned by tests). The arithmetic lives in rules.py.

Attribution: a figure belongs to the staff member who owns the customer — now, or, for a funnel at
a past date, at that date (from the owner-change rows). Team and region are the staff member's
current ones (team moves are not dated)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import staff_in_scope, visible_customers
from yixiang.customers.models import Customer, Stage
from yixiang.pipeline import rules as pipeline_rules
from yixiang.pipeline.conf import conf as pipeline_conf
from yixiang.pipeline.models import OwnerChange, StageChange
from yixiang.replica import replica_reads
from yixiang.reports import history, rules
from yixiang.reports.conf import conf
from yixiang.reports.models import WinRateSnapshot

# --- Filters and the staff they select ------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    date_from: dt.date
    date_to: dt.date  # inclusive
    as_of: dt.date | None = None  # the funnel's date; None = now
    rep: int | None = None
    team: int | None = None
    region: int | None = None
    unit: str = "week"  # "week" or "month" for figures over time

    @classmethod
    def default(cls, today: dt.date | None = None, **kw: Any) -> ReportFilters:
        today = today or timezone.localdate()
        return cls(date_from=today - dt.timedelta(days=conf("REPORT_DEFAULT_DAYS") - 1), date_to=today, **kw)

    @property
    def start(self) -> dt.datetime:
        return start_of(self.date_from)

    @property
    def end(self) -> dt.datetime:
        return start_of(self.date_to + dt.timedelta(days=1))

    def as_params(self) -> dict[str, str]:
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "unit": self.unit}
        if self.as_of:
            out["date"] = self.as_of.isoformat()
        for key in ("rep", "team", "region"):
            if getattr(self, key):
                out[key] = str(getattr(self, key))
        return out


def start_of(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day`` (timezone-aware)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def selected_staff(user: User, f: ReportFilters) -> list[User]:
    """The staff a report covers: the viewer's scope narrowed by rep / team / region.

    A rep, team or region outside the scope is "not found" (404), like any object out of scope."""
    qs = staff_in_scope(user).select_related("team", "team__region", "region")
    if f.rep:
        qs = qs.filter(pk=f.rep)
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.region:
        qs = qs.filter(Q(team__region_id=f.region) | Q(region_id=f.region))
    staff = list(qs.order_by("team__name", "username"))
    if not staff and (f.rep or f.team or f.region):
        raise Http404("not in scope")
    return staff


def _region_of(u: User) -> tuple[int | None, str]:
    if u.team_id and u.team and u.team.region_id:
        return u.team.region_id, u.team.region.name
    if u.region_id and u.region:
        return u.region_id, u.region.name
    return None, ""


def filter_choices(user: User) -> dict[str, list[tuple[int, str]]]:
    """Reps, teams and regions the viewer may pick in the filters (one query)."""
    staff = list(staff_in_scope(user).select_related("team", "team__region", "region").order_by("username"))
    teams = {u.team_id: u.team.name for u in staff if u.team_id}
    regions = {}
    for u in staff:
        rid, name = _region_of(u)
        if rid:
            regions[rid] = name
    return {
        "reps": [(u.pk, u.label) for u in staff],
        "teams": sorted(teams.items(), key=lambda kv: kv[1]),
        "regions": sorted(regions.items(), key=lambda kv: kv[1]),
    }


def _owned(user: User, ids: Iterable[int]) -> QuerySet[Customer]:
    """Customers the viewer may see that the selected staff own now (the pool is nobody's figure)."""
    return visible_customers(user, include_pool=False).filter(owner_id__in=list(ids))


# --- Funnel ---------------------------------------------------------------------------------------


@dataclass
class FunnelRow:
    key: str  # "rep", "team", "region" or "total"
    id: int | None
    name: str
    counts: dict[int, int]
    reps: int
    bands: list[pipeline_rules.BandBalance] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class FunnelReport:
    as_of: dt.date | None
    total: FunnelRow
    reps: list[FunnelRow]
    teams: list[FunnelRow]
    regions: list[FunnelRow]
    targets: dict[str, int]  # per rep


def _end_of(day: dt.date) -> dt.datetime:
    return start_of(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def _counts_now(ids: list[int]) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for owner_id, stage, n in (
        Customer.objects.filter(owner_id__in=ids, deleted_at__isnull=True)
        .order_by()
        .values("owner_id", "stage")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "stage", "n")
    ):
        out[owner_id][stage] = n
    return out


def _stage_at(customer: str, when: dt.datetime) -> Coalesce:
    """SQL for the stage of the customer at ``customer`` (an outer reference) at ``when``, as
    rules.stage_at reads it: the last change at or before ``when``; before the first change, the
    stage that change left (its target when it is the first record); no change at all, the stage
    now; NULL while the customer did not exist yet."""
    changes = StageChange.objects.filter(customer_id=OuterRef(customer)).order_by()
    last = changes.filter(at__lte=when).order_by("-at", "-pk").values("to_stage")[:1]
    first = changes.order_by("at", "pk").annotate(left=Coalesce("from_stage", "to_stage")).values("left")[:1]
    created = "customer__created_at" if customer == "customer_id" else "created_at"
    stage_now = "customer__stage" if customer == "customer_id" else "stage"
    return Coalesce(
        Subquery(last),
        Case(
            When(**{f"{created}__gt": when}, then=Value(None)),
            default=Coalesce(Subquery(first), F(stage_now)),
        ),
        output_field=IntegerField(),
    )


def _counts_at(ids: list[int], when: dt.datetime) -> dict[int, dict[int, int]]:
    """Customers per owner and stage at ``when``, counted in SQL from the stage- and owner-change
    rows (three grouped queries, index-driven from the owners' own rows, so the work follows the
    team's history and not the size of the tables).

    The owner at ``when`` is rules.owner_at's: the last owner change at or before it (its new
    owner, None for the pool); before the first change, that change's former owner; the owner now
    when the owner never changed. Each customer falls in exactly one of the three queries."""
    ids = list(ids)
    alive = Q(customer__deleted_at__isnull=True) | Q(customer__deleted_at__gt=when)
    same = OwnerChange.objects.filter(customer_id=OuterRef("customer_id"))
    # The last change at or before ``when`` gave the customer to one of ``ids`` (a probe of the
    # (customer, at) index per row: planners keep it a nested loop, not a scan of the table).
    handed = (
        OwnerChange.objects.filter(alive, to_owner_id__in=ids, at__lte=when)
        .filter(pk=Subquery(same.filter(at__lte=when).order_by("-at", "-pk").values("pk")[:1]))
        .annotate(holder=F("to_owner_id"))
    )
    # Every change came after ``when`` and the first took it from one of ``ids``.
    before_first = (
        OwnerChange.objects.filter(alive, from_owner_id__in=ids, at__gt=when)
        .filter(pk=Subquery(same.order_by("at", "pk").values("pk")[:1]))
        .annotate(holder=F("from_owner_id"))
    )
    out: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for qs in (handed, before_first):
        rows = (
            qs.annotate(stage_at=_stage_at("customer_id", when))
            .order_by()
            .values("holder", "stage_at")
            .annotate(n=Count("*"))
            .values_list("holder", "stage_at", "n")
        )
        for owner, stage, n in rows:
            if stage is not None:  # not created yet
                out[owner][stage] += n
    # Never changed owner: the owner now.
    never = (
        Customer.objects.filter(owner_id__in=ids)
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=when))
        .filter(~Exists(OwnerChange.objects.filter(customer_id=OuterRef("pk"))))
        .annotate(stage_at=_stage_at("pk", when))
        .order_by()
        .values("owner_id", "stage_at")
        .annotate(n=Count("*"))
        .values_list("owner_id", "stage_at", "n")
    )
    for owner, stage, n in never:
        if stage is not None:
            out[owner][stage] += n
    return out


@replica_reads()
def funnel(*, user: User, f: ReportFilters, today: dt.date | None = None) -> FunnelReport:
    """Customers per intent stage now or at ``f.as_of``, per rep, team and region, against the
    tracked-list targets (≈20 stage 0 / ≈40 stages 1–2 / ≈10 stages 3–4 per rep)."""
    today = today or timezone.localdate()
    staff = selected_staff(user, f)
    ids = [u.pk for u in staff]
    past = f.as_of is not None and f.as_of < today
    per_owner = _counts_at(ids, _end_of(f.as_of)) if past else _counts_now(ids)
    targets = dict(pipeline_conf("BALANCE_TARGETS"))
    tolerance = pipeline_conf("BALANCE_TOLERANCE")

    def row(key: str, id_: int | None, name: str, members: list[User]) -> FunnelRow:
        counts = rules.funnel_counts([])
        for m in members:
            for stage, n in per_owner.get(m.pk, {}).items():
                counts[stage] = counts.get(stage, 0) + n
        reps = sum(1 for m in members if m.role == Role.REP) or 1
        bands = pipeline_rules.tracked_balance(counts, rules.scaled_targets(targets, reps), tolerance)
        return FunnelRow(key, id_, name, counts, reps, bands)

    # Per rep: reps always, other staff only when they hold customers.
    rep_rows = [row("rep", u.pk, u.label, [u]) for u in staff if u.role == Role.REP or per_owner.get(u.pk)]
    by_team: dict[int, list[User]] = defaultdict(list)
    team_names: dict[int, str] = {}
    by_region: dict[int, list[User]] = defaultdict(list)
    region_names: dict[int, str] = {}
    for u in staff:
        if u.team_id:
            by_team[u.team_id].append(u)
            team_names[u.team_id] = u.team.name
        rid, rname = _region_of(u)
        if rid:
            by_region[rid].append(u)
            region_names[rid] = rname
    return FunnelReport(
        as_of=f.as_of if past else None,
        total=row("total", None, _("All"), staff),
        reps=rep_rows,
        teams=[
            row("team", tid, team_names[tid], m) for tid, m in sorted(by_team.items(), key=lambda kv: team_names[kv[0]])
        ],
        regions=[
            row("region", rid, region_names[rid], m)
            for rid, m in sorted(by_region.items(), key=lambda kv: region_names[kv[0]])
        ],
        targets=targets,
    )


# --- Movement: conversion, days in stage, win rates -----------------------------------------------


def movement_customers(ids: list[int]) -> QuerySet[Customer]:
    """Customers the selected staff (already inside the viewer's scope) own now or whose stage they
    changed, so a customer a rep lost to the pool or handed on still counts in the rep's figures."""
    return Customer.objects.filter(
        Q(owner_id__in=ids) | Q(stage_changes__owner_id__in=ids), deleted_at__isnull=True
    ).distinct()


@dataclass
class MovementReport:
    conversions: list[rules.Conversion]
    durations: list[rules.StageDuration]
    win_rates: dict[int, rules.WinRate]
    min_sample: int
    customers: int


@replica_reads()
def movement(*, user: User, f: ReportFilters) -> MovementReport:
    """Conversion k → k+1 over the period, median days in each stage, and each stage's win rate
    (counted by the database: reports.history)."""
    ids = [u.pk for u in selected_staff(user, f)]
    customers = movement_customers(ids)
    figures = history.movement(customers, f.start, f.end)
    return MovementReport(
        conversions=figures.conversions,
        durations=figures.durations,
        win_rates=figures.win_rates,
        min_sample=conf("WIN_RATE_MIN_SAMPLE"),
        customers=customers.count(),
    )


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
    from yixiang.reports.services import win_rate_snapshot_refresh  # services import this module

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


# --- Activity over time: effective calls and judgment accuracy ------------------------------------


@dataclass
class ActivityPoint:
    start: dt.date
    end: dt.date
    follow_ups: int = 0
    effective: int = 0
    hot_judgments: int = 0
    hot_right: int = 0
    hot_pending: int = 0
    hot_accuracy: float | None = None
    judgments: int = 0
    reversed: int = 0
    reversal_share: float | None = None


@dataclass
class ActivityRow:
    user_id: int
    name: str
    team: str
    points: list[ActivityPoint]

    @property
    def follow_ups(self) -> int:
        return sum(p.follow_ups for p in self.points)

    @property
    def effective(self) -> int:
        return sum(p.effective for p in self.points)


@dataclass
class ActivityReport:
    periods: list[tuple[dt.date, dt.date]]
    rows: list[ActivityRow]
    unit: str


@replica_reads()
def activity(*, user: User, f: ReportFilters, now: dt.datetime | None = None) -> ActivityReport:
    """Follow-ups, effective calls and judgment accuracy per rep, per week or month of the period:
    the team review (yixiang.pipeline.selectors.team_review) run once per week or month."""
    from yixiang.pipeline.selectors import team_review

    staff = selected_staff(user, f)
    wanted = {u.pk: u for u in staff}
    starts = rules.buckets(f.date_from, f.date_to, f.unit)[-conf("REPORT_MAX_PERIODS") :]
    periods = []
    for i, b in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else f.date_to + dt.timedelta(days=1)
        periods.append((max(b, f.date_from), min(nxt - dt.timedelta(days=1), f.date_to)))
    rows = {
        u.pk: ActivityRow(u.pk, u.label, u.team.name if u.team_id else "", [])
        for u in staff
        if u.role == Role.REP or u.pk == (f.rep or 0)
    }
    for first, last in periods:
        for m in team_review(user=user, date_from=first, date_to=last, now=now):
            if m.user_id not in rows or m.user_id not in wanted:
                continue
            rows[m.user_id].points.append(
                ActivityPoint(
                    start=first,
                    end=last,
                    follow_ups=m.follow_ups,
                    effective=m.effective,
                    hot_judgments=m.hot_judgments,
                    hot_right=m.hot_right,
                    hot_pending=m.hot_pending,
                    hot_accuracy=m.hot_accuracy,
                    judgments=m.judgments,
                    reversed=m.reversed,
                    reversal_share=m.reversal_share,
                )
            )
    return ActivityReport(periods=periods, rows=list(rows.values()), unit=f.unit)


# --- After the sale -------------------------------------------------------------------------------


def aftercare_conf(name: str) -> Any:
    from yixiang.aftercare.conf import conf as aftercare_conf

    return aftercare_conf(name)


@dataclass
class AftercareReport:
    tiers: dict[str, int]
    pareto_curve: list[tuple[float, float]]
    pareto_top_percent: int
    pareto_share_percent: int
    pareto_customers: int
    revenue_total: Decimal
    loyalty: dict[str, int]
    loyalty_moves: dict[str, int]
    loyalty_labels: dict[str, str]
    referrers: list[dict[str, Any]]
    payouts_due: list[dict[str, Any]]
    renewals_due: list[dict[str, Any]]
    lapsing: list[dict[str, Any]]
    costs: dict[str, dict[str, Decimal]]
    costs_total: Decimal


def _cost_rows(owned: QuerySet[Customer], f: ReportFilters) -> dict[str, dict[str, Decimal]]:
    """Maintenance cost per value tier in the period: messages sent, calls made, gifts given."""
    from yixiang.aftercare.models import Gift, Message
    from yixiang.pipeline.models import FollowUp

    tiers: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"messages": Decimal(0), "calls": Decimal(0), "gifts": Decimal(0), "total": Decimal(0)}
    )
    for tier, total in (
        Message.objects.filter(customer__in=owned, status=Message.Status.SENT, sent_at__gte=f.start, sent_at__lt=f.end)
        .order_by()
        .values("customer__value_tier")
        .annotate(total=Sum("cost"))
        .values_list("customer__value_tier", "total")
    ):
        tiers[tier or "-"]["messages"] += total or 0
    per_minute = Decimal(aftercare_conf("COST_CALL_PER_MINUTE"))
    for tier, minutes in (
        FollowUp.objects.filter(customer__in=owned, channel="phone", at__gte=f.start, at__lt=f.end)
        .order_by()
        .values("customer__value_tier")
        .annotate(minutes=Sum(Coalesce("duration_minutes", aftercare_conf("CALL_DEFAULT_MINUTES"))))
        .values_list("customer__value_tier", "minutes")
    ):
        tiers[tier or "-"]["calls"] += per_minute * (minutes or 0)
    for tier, total in (
        Gift.objects.filter(customer__in=owned, given_on__gte=f.date_from, given_on__lte=f.date_to)
        .order_by()
        .values("customer__value_tier")
        .annotate(total=Sum("cost"))
        .values_list("customer__value_tier", "total")
    ):
        tiers[tier or "-"]["gifts"] += total or 0
    for parts in tiers.values():
        parts["total"] = parts["messages"] + parts["calls"] + parts["gifts"]
    return dict(sorted(tiers.items()))


@replica_reads()
def aftercare(*, user: User, f: ReportFilters, today: dt.date | None = None) -> AftercareReport:
    """Value tiers, the 80/20 curve of revenue in the period, loyalty ladder and its moves, referrals,
    payouts and renewals due, lapsing customers, and maintenance cost per tier."""
    from yixiang.aftercare import rules as aftercare_rules
    from yixiang.aftercare.models import Contract, LoyaltyChange, LoyaltyLevel, Payment, Payout

    today = today or timezone.localdate()
    limit = conf("REPORT_LIST_LIMIT")
    ids = [u.pk for u in selected_staff(user, f)]
    owned = _owned(user, ids)
    signed = owned.filter(stage=Stage.SIGNED)

    counts = dict(signed.order_by().values("value_tier").annotate(n=Count("pk")).values_list("value_tier", "n"))
    tiers = {t: counts.get(t, 0) for t in ("A", "B", "C", "D", "")}

    # Revenue in the period of every signed customer (those without any too) and any payer.
    revenue = dict(
        Payment.objects.filter(customer__in=owned, paid_on__gte=f.date_from, paid_on__lte=f.date_to)
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )
    for pk in signed.values_list("pk", flat=True):
        revenue.setdefault(pk, Decimal(0))
    top_share = Decimal(aftercare_conf("PARETO_TOP_SHARE"))
    split = aftercare_rules.pareto_split(revenue.values(), top_share)

    loyalty_counts = dict(
        signed.order_by().values("care__loyalty_level").annotate(n=Count("pk")).values_list("care__loyalty_level", "n")
    )
    loyalty = {code: loyalty_counts.get(code, 0) for code in LoyaltyLevel.values}
    loyalty[""] = loyalty_counts.get("", 0) + loyalty_counts.get(None, 0)
    moves = rules.loyalty_moves(
        LoyaltyChange.objects.filter(customer__in=owned, at__gte=f.start, at__lt=f.end).values_list(
            "from_level", "to_level"
        ),
        LoyaltyLevel.values,
    )

    referrers = [
        {
            "customer_id": c.pk,
            "name": c.name,
            "referred": c.referred_n,
            "signed": c.signed_n,
            "conversion_percent": aftercare_rules.conversion_rate(c.referred_n, c.signed_n),
        }
        for c in owned.annotate(
            referred_n=Count("referred", filter=Q(referred__deleted_at__isnull=True)),
            signed_n=Count("referred", filter=Q(referred__deleted_at__isnull=True, referred__stage=Stage.SIGNED)),
        )
        .filter(referred_n__gt=0)
        .order_by("-referred_n", "-signed_n", "pk")
        .only("pk", "name")[:limit]
    ]

    notice = aftercare_conf("PAYOUT_NOTICE_DAYS")
    payouts_due = [
        {
            "customer_id": p.contract.customer_id,
            "customer": p.contract.customer.name,
            "contract": p.contract.number,
            "due_date": p.due_date,
            "amount": p.amount,
            "late": p.due_date < today,
        }
        for p in Payout.objects.filter(
            contract__customer__in=owned,
            status__in=[Payout.Status.SCHEDULED, Payout.Status.LATE],
            due_date__lte=today + dt.timedelta(days=notice),
        )
        .select_related("contract", "contract__customer")
        .order_by("due_date", "pk")[:limit]
    ]
    renew = aftercare_conf("RENEWAL_NOTICE_DAYS")
    renewals_due = [
        {
            "customer_id": c.customer_id,
            "customer": c.customer.name,
            "contract": c.number,
            "name": c.name,
            "end_date": c.end_date,
            "amount": c.amount,
            "days_left": (c.end_date - today).days,
        }
        for c in Contract.objects.filter(
            customer__in=owned, status=Contract.Status.ACTIVE, end_date__lte=today + dt.timedelta(days=renew)
        )
        .select_related("customer")
        .order_by("end_date", "pk")[:limit]
    ]
    lapsing = [
        {"customer_id": pk, "customer": name, "since": since, "tier": tier}
        for pk, name, since, tier in owned.filter(care__lapsing_since__isnull=False)
        .order_by("care__lapsing_since", "pk")
        .values_list("pk", "name", "care__lapsing_since", "value_tier")[:limit]
    ]
    costs = _cost_rows(owned, f)
    return AftercareReport(
        tiers=tiers,
        pareto_curve=rules.pareto_curve(revenue.values(), conf("PARETO_CURVE_POINTS")),
        pareto_top_percent=round(top_share * 100),
        pareto_share_percent=split.percent,
        pareto_customers=split.customers,
        revenue_total=split.total,
        loyalty=loyalty,
        loyalty_moves=moves,
        loyalty_labels={code: str(label) for code, label in LoyaltyLevel.choices},
        referrers=referrers,
        payouts_due=payouts_due,
        renewals_due=renewals_due,
        lapsing=lapsing,
        costs=costs,
        costs_total=sum((c["total"] for c in costs.values()), Decimal(0)),
    )


# --- Incentives -------------------------------------------------------------------------------------


@dataclass
class PersonTotals:
    user_id: int
    name: str
    region: str
    totals: list[int]  # one per month, in yuan (signed)

    @property
    def total(self) -> int:
        return sum(self.totals)


@dataclass
class IncentivesReport:
    months: list[dt.date]
    missing_months: list[dt.date]  # no scheme version in force
    people: list[PersonTotals]
    regions: dict[str, list[int]]
    fund: list[dict[str, Any]] | None  # penalty fund per month: company-wide, administrators only


def month_starts(first: dt.date, last: dt.date, limit: int) -> list[dt.date]:
    return rules.buckets(first, last, "month")[-limit:]


@replica_reads()
def incentives(*, user: User, f: ReportFilters) -> IncentivesReport:
    """Monthly statement totals per person and region for the months of the period, read from the
    incentive app's statements (yixiang.incentives.selectors.month_statements), and the penalty fund."""
    from yixiang.incentives.engine import Engine, NoScheme
    from yixiang.incentives.selectors import month_statements

    staff = {u.pk: u for u in selected_staff(user, f)}
    months = month_starts(f.date_from, f.date_to, conf("REPORT_MAX_MONTHS"))
    engine = Engine()
    people: dict[int, PersonTotals] = {}
    regions: dict[str, list[int]] = {}
    fund: list[dict[str, Any]] = []
    missing: list[dt.date] = []
    shown: list[dt.date] = []
    for m in months:
        try:
            view = month_statements(fetched_by=user, month=m, engine=engine)
        except NoScheme:
            missing.append(m)
            continue
        i = len(shown)
        shown.append(m)
        for s in view.statements:
            u = staff.get(s.user_id)
            if u is None:
                continue
            region = _region_of(u)[1] or _("No region")
            person = people.setdefault(s.user_id, PersonTotals(s.user_id, s.name, region, []))
            person.totals += [0] * (i + 1 - len(person.totals))
            person.totals[i] += s.total
            row = regions.setdefault(region, [])
            row += [0] * (i + 1 - len(row))
            row[i] += s.total
        if view.funding is not None:
            fund.append({"month": m.isoformat(), "closed": view.closed, **asdict(view.funding)})
    for p in people.values():
        p.totals += [0] * (len(shown) - len(p.totals))
    for row in regions.values():
        row += [0] * (len(shown) - len(row))
    return IncentivesReport(
        months=shown,
        missing_months=missing,
        people=sorted(people.values(), key=lambda p: (p.region, -p.total, p.name)),
        regions=dict(sorted(regions.items())),
        fund=fund if user.is_admin_role else None,
    )


# --- The weekly one-pager -------------------------------------------------------------------------


@dataclass
class WeeklyReport:
    monday: dt.date
    sunday: dt.date
    subject: str
    funnel_start: FunnelReport
    funnel_end: FunnelReport
    members: list[Any]  # yixiang.pipeline.selectors.MemberReview, one per rep
    totals: dict[str, Any]
    payouts_due: list[Any]
    renewals_due: list[Any]
    care_done: int
    care_open: int

    @property
    def stage_rows(self) -> list[tuple[int, int, int, int]]:
        """(stage, count at the start of the week, count at its end, the change)."""
        start, end = self.funnel_start.total.counts, self.funnel_end.total.counts
        return [(s, start.get(s, 0), end.get(s, 0), end.get(s, 0) - start.get(s, 0)) for s in rules.STAGES]


@replica_reads()
def weekly(*, user: User, f: ReportFilters, day: dt.date, today: dt.date | None = None) -> WeeklyReport:
    """The week holding ``day`` for the selected rep or team: the funnel at its start and end, each
    member's follow-ups, judgments and signings, care done, and the payouts and renewals ahead."""
    from yixiang.aftercare.models import CareTask, Contract, Payout
    from yixiang.pipeline.selectors import hot_accuracy_of, team_review

    today = today or timezone.localdate()
    monday, sunday = rules.week_of(min(day, today))
    staff = selected_staff(user, f)
    ids = [u.pk for u in staff]
    last = min(sunday, today)
    week = ReportFilters(date_from=monday, date_to=sunday, rep=f.rep, team=f.team, region=f.region)
    start = funnel(user=user, f=replace(week, as_of=monday - dt.timedelta(days=1)), today=today)
    end = funnel(user=user, f=replace(week, as_of=sunday), today=today)
    reps = {u.pk for u in staff if u.role == Role.REP} or set(ids)
    members = [m for m in team_review(user=user, date_from=monday, date_to=last) if m.user_id in reps]
    totals = {
        key: sum(getattr(m, key) for m in members)
        for key in (
            "follow_ups",
            "effective",
            "rises",
            "drops",
            "signed",
            "hot_judgments",
            "hot_right",
            "judgments",
            "reversed",
        )
    }
    totals["hot_accuracy"] = hot_accuracy_of(members)  # as each rep's row: right over decided
    owned = _owned(user, ids)
    ahead = sunday + dt.timedelta(days=7)
    payouts = list(
        Payout.objects.filter(
            contract__customer__in=owned,
            status__in=[Payout.Status.SCHEDULED, Payout.Status.LATE],
            due_date__lte=ahead,
        )
        .select_related("contract", "contract__customer")
        .order_by("due_date", "pk")[: conf("REPORT_LIST_LIMIT")]
    )
    renewals = list(
        Contract.objects.filter(
            customer__in=owned,
            status=Contract.Status.ACTIVE,
            end_date__lte=sunday + dt.timedelta(days=aftercare_conf("RENEWAL_NOTICE_DAYS")),
        )
        .select_related("customer")
        .order_by("end_date", "pk")[: conf("REPORT_LIST_LIMIT")]
    )
    care = CareTask.objects.filter(rep_id__in=ids, customer__in=owned).aggregate(
        done=Count("pk", filter=Q(done_at__gte=week.start, done_at__lt=week.end)),
        open=Count("pk", filter=Q(done_at__isnull=True, due_on__lte=last)),
    )
    if f.rep:
        subject = staff[0].label
    elif f.team:
        subject = staff[0].team.name if staff[0].team_id else ""
    elif f.region:
        subject = _region_of(staff[0])[1]
    else:
        subject = user.label if len(staff) == 1 else _("Everyone in my scope")
    return WeeklyReport(
        monday=monday,
        sunday=sunday,
        subject=subject,
        funnel_start=start,
        funnel_end=end,
        members=members,
        totals=totals,
        payouts_due=payouts,
        renewals_due=renewals,
        care_done=care["done"],
        care_open=care["open"],
    )
