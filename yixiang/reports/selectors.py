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
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.models import Customer
from yixiang.customers.scoping import visible_customers
from yixiang.pipeline import rules as pipeline_rules
from yixiang.pipeline.conf import conf as pipeline_conf
from yixiang.pipeline.models import OwnerChange, StageChange
from yixiang.replica import replica_reads
from yixiang.reports import history, rules
from yixiang.reports.conf import conf
from yixiang.reports.models import FunnelSnapshot, FunnelSnapshotDay

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


def _counts_snapshot(ids: list[int], day: dt.date) -> dict[int, dict[int, int]] | None:
    """Customers per owner and stage at the end of ``day`` from the nightly snapshot
    (reports.funnel_snapshots), or None when that day has not been snapshotted."""
    if not FunnelSnapshotDay.objects.filter(day=day).exists():
        return None
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for owner, stage, n in FunnelSnapshot.objects.filter(day=day, owner_id__in=ids).values_list(
        "owner_id", "stage", "customers"
    ):
        out[owner][stage] = n
    return out


@replica_reads()
def funnel(*, user: User, f: ReportFilters, today: dt.date | None = None) -> FunnelReport:
    """Customers per intent stage now or at ``f.as_of``, per rep, team and region, against the
    tracked-list targets (≈20 stage 0 / ≈40 stages 1–2 / ≈10 stages 3–4 per rep)."""
    today = today or timezone.localdate()
    staff = selected_staff(user, f)
    ids = [u.pk for u in staff]
    past = f.as_of is not None and f.as_of < today
    # A past day reads its nightly snapshot; a day not snapshotted yet is replayed from the history.
    snap = _counts_snapshot(ids, f.as_of) if past else None
    if snap is not None:
        per_owner = snap
    else:
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
    # A UNION of two index reads (owner; the stage changes' owner), not an OR across a join with
    # DISTINCT: at 1M customers a region's OR scanned every customer and its count alone took 1.6 s.
    owned = Customer.objects.filter(owner_id__in=ids).order_by().values("pk")
    worked = StageChange.objects.filter(owner_id__in=ids).order_by().values("customer_id")
    return Customer.objects.filter(pk__in=owned.union(worked), deleted_at__isnull=True)


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
        customers=figures.customers,  # counted by the same statement (a separate COUNT cost ~0.4 s at 1M)
    )
