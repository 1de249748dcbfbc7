"""Reads of the pipeline: the daily agenda, the tracked-list balance, the pool and the team review.

Every read starts from the user's scope (``yixiang.accounts.scoping``) and runs a fixed, small
number of queries whatever the number of customers (pinned by tests)."""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from yixiang.accounts.models import User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers import display as customer_display
from yixiang.customers import rules as customer_rules
from yixiang.customers.models import Customer, Stage
from yixiang.customers.scoping import visible_customers
from yixiang.customers.selectors import search_condition
from yixiang.customers.stages import UNJUDGED_LABEL, is_unjudged
from yixiang.pipeline import events, rules
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import (
    CustomerProfile,
    FollowUp,
    HolidayDay,
    HolidayKind,
    OwnerChange,
    ReleaseProposal,
    StageChange,
    VisitPlan,
)
from yixiang.pipeline.playbook import get_playbook


def work_calendar(start: dt.date, end: dt.date) -> rules.WorkCalendar:
    """The statutory calendar of the years from ``start`` to ``end``, in one indexed query; the
    due-date rule reads it (rules stay pure). Read afresh each call, so an edit in the admin counts
    at once in every process."""
    rows = HolidayDay.objects.filter(date__gte=dt.date(start.year, 1, 1), date__lte=dt.date(end.year, 12, 31))
    days_off, workdays = set(), set()
    for day, kind in rows.values_list("date", "kind"):
        (workdays if kind == HolidayKind.WORKDAY else days_off).add(day)
    return rules.WorkCalendar(
        days_off=frozenset(days_off),
        workdays=frozenset(workdays),
        known_years=frozenset(d.year for d in days_off | workdays),
    )


def due_calendar(around: dt.date) -> rules.WorkCalendar:
    """The calendar a due date computed from ``around`` (a last contact or today) can need: the
    longest cadence plus a Spring Festival's week off, across a year end."""
    reach = max(int(v) for v in conf("CADENCE_DAYS").values()) + 31
    return work_calendar(around, around + dt.timedelta(days=reach))


def known_calendar_years(days: Iterable[dt.date | None]) -> frozenset[int]:
    """Which of these dates' years have a statutory calendar (one query; none for no dates). A due
    date in another year was computed with weekends only, and the page says so."""
    years = {d.year for d in days if d is not None}
    if not years:
        return frozenset()
    # Date ranges, not date__year__in: SQLite extracted the year of every calendar row (1.3 ms → 0.3).
    spans = [Q(date__gte=dt.date(y, 1, 1), date__lte=dt.date(y, 12, 31)) for y in sorted(years)]
    return frozenset(d.year for d in HolidayDay.objects.filter(reduce(operator.or_, spans)).dates("date", "year"))


def calendar_missing_year(today: dt.date | None = None) -> int | None:
    """The year an administrator should enter the statutory calendar for now, if any (banner)."""
    today = today or timezone.localdate()
    known = HolidayDay.objects.filter(date__year__in=(today.year, today.year + 1)).dates("date", "year")
    return rules.calendar_missing_year(
        today, {d.year for d in known}, warn_from_month=int(conf("HOLIDAY_CALENDAR_WARN_MONTH"))
    )


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def recycle_policy() -> rules.RecyclePolicy:
    """The company's recycling rules from the settings (None switches a rule off)."""
    return rules.RecyclePolicy(
        overdue_limit=conf("RECYCLE_OVERDUE_DAYS"),
        hold_limit=conf("RECYCLE_HOLD_DAYS"),
        recent_rise_days=conf("RECYCLE_RECENT_RISE_DAYS"),
        hot_needs_lead=bool(conf("RECYCLE_HOT_NEEDS_LEAD")),
    )


def recycle_q(day: dt.date, *, ahead: int = 0) -> tuple[Q, dt.date | None]:
    """Q for tracked customers that recycle (or go to the lead) on ``day + ahead`` — the SQL twin
    of rules.recycle_reason — and the due-date cutoff that tells "overdue" from "held too long"."""
    policy = recycle_policy()
    when = day + dt.timedelta(days=ahead)
    due_before = when - dt.timedelta(days=policy.overdue_limit) if policy.overdue_limit is not None else None
    reasons = Q(pk__in=[])
    if due_before is not None:
        reasons |= Q(next_due_on__lt=due_before)
    if policy.hold_limit is not None:
        held_before = _start_of(when - dt.timedelta(days=policy.hold_limit))
        # The clock restarts on each stage rise.
        reasons |= Q(held_since__lt=held_before) & (Q(stage_rose_at__isnull=True) | Q(stage_rose_at__lt=held_before))
    cond = Q(owner__isnull=False, deleted_at__isnull=True, recycle_locked=False) & ~Q(stage=Stage.SIGNED) & reasons
    if policy.recent_rise_days is not None:
        rose_before = _start_of(when - dt.timedelta(days=policy.recent_rise_days))
        cond &= Q(stage_rose_at__isnull=True) | Q(stage_rose_at__lt=rose_before)
    return cond, due_before


# --- The agenda ---------------------------------------------------------------------------------


@dataclass
class AgendaItem:
    customer_id: int
    customer_name: str
    phone: str
    stage: int
    stage_label: str
    grade: str
    due_on: dt.date | None
    is_due: bool
    overdue_days: int
    last_contact_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    purpose: str
    suggest_after: str | None
    recycle_on: dt.date | None  # set when the customer will be recycled within the warning days
    first_contact_due_at: dt.datetime | None
    locked: bool
    url: str
    followup_url: str
    # Brought by a referrer: marked on the agenda and first in its band.
    referred: bool = False

    @property
    def band(self) -> str:
        return rules.band(self.stage)


@dataclass
class Agenda:
    day: dt.date
    items: list[AgendaItem]
    visits: list[VisitPlan]
    care: list[dict[str, Any]]
    balance: list[rules.BandBalance]
    proposals: list[ReleaseProposal]

    @property
    def warnings(self) -> list[AgendaItem]:
        return [i for i in self.items if i.recycle_on is not None]

    @property
    def out_of_balance(self) -> bool:
        return any(b.status != "ok" for b in self.balance)


def customer_url(pk: int) -> str:
    """The customer's page."""
    return reverse("customer_detail", args=[pk])


_URL_MARK = 987654321  # a pk no real row has: the route is reversed once, then filled per row


def url_maker(name: str) -> Any:
    """``pk -> URL`` for a route with one int argument, reversing once instead of per row."""
    template = reverse(name, args=[_URL_MARK])
    mark = str(_URL_MARK)
    return lambda pk: template.replace(mark, str(pk))


def _customer_url_maker() -> Any:
    return url_maker("customer_detail")


def agenda_items(*, user: User, day: dt.date) -> list[AgendaItem]:
    """Overdue and due customers of the user's tracked list for ``day`` (one query), plus those
    about to be recycled; stage 3–4 first, then 1–2, 0, E.

    Plain rows, not model instances, and everything that depends only on the stage or the
    settings worked out once: this runs for every rep every morning (and on every refresh)."""
    warn_days = conf("RECYCLE_WARN_DAYS")
    policy = recycle_policy()
    signed_after = conf("SIGNED_SUGGEST_AFTER")
    warn_cond, _cut = recycle_q(day, ahead=warn_days)
    last_attempt = FollowUp.objects.filter(customer=OuterRef("pk")).order_by("-at").values("at")[:1]
    rows = (
        Customer.objects.filter(owner=user, deleted_at__isnull=True)
        .filter(Q(next_due_on__lte=day) | Q(next_due_on__isnull=True) | warn_cond)
        .annotate(last_attempt_at=Subquery(last_attempt))
        .order_by()
        .values_list(
            "pk",
            "name",
            "phone",
            "stage",
            "grade",
            "next_due_on",
            "last_contact_at",
            "held_since",
            "stage_rose_at",
            "recycle_locked",
            "pipeline_profile__first_contact_due_at",
            "last_attempt_at",
            "referrer_id",
        )
    )
    pb = get_playbook()
    labels = {k: str(v) for k, v in Stage.choices}
    unjudged_label = str(UNJUDGED_LABEL)
    purposes: dict[int, str] = {}
    detail_url, followup_url = _customer_url_maker(), url_maker("followup_create")
    warn_until = day + dt.timedelta(days=warn_days)
    tz = timezone.get_current_timezone()
    items = []
    for pk, name, phone, stage, grade, due, last_contact, held, rose, locked, first_due, last_attempt_at, ref in rows:
        recycle_on = rules.recycle_on(
            next_due_on=due,
            held_since=held.astimezone(tz).date() if held else None,
            rose_on=rose.astimezone(tz).date() if rose else None,
            stage=stage,
            locked=locked,
            policy=policy,
        )
        if recycle_on is not None and recycle_on > warn_until:
            recycle_on = None
        elif recycle_on is not None and recycle_on < day:
            recycle_on = day  # past its day: the next nightly run takes it, never a date behind us
        if stage not in purposes:
            purposes[stage] = pb.purpose(stage)
        items.append(
            AgendaItem(
                customer_id=pk,
                customer_name=name,
                phone=phone,
                stage=stage,
                stage_label=unjudged_label if is_unjudged(stage, last_contact) else labels.get(stage, str(stage)),
                grade=grade,
                due_on=due,
                is_due=due is None or due <= day,
                overdue_days=rules.overdue_days(due, day),
                last_contact_at=last_contact,
                last_attempt_at=last_attempt_at,
                purpose=purposes[stage],
                suggest_after=rules.suggest_after(stage, signed_after),
                recycle_on=recycle_on,
                first_contact_due_at=first_due,
                locked=locked,
                url=detail_url(pk),
                followup_url=followup_url(pk),
                referred=ref is not None,
            )
        )
    items.sort(
        key=lambda i: (
            not i.is_due,
            *rules.agenda_sort_key(stage=i.stage, overdue=i.overdue_days, name=i.customer_name, referred=i.referred),
            i.customer_id,  # two customers of the same name keep a stable order
        )
    )
    return items


# Reading the customer's ~40 columns to show its name doubled the cost of these two small lists.
_VISIT_FIELDS = [f.name for f in VisitPlan._meta.concrete_fields]
_PROPOSAL_FIELDS = [f.name for f in ReleaseProposal._meta.concrete_fields]


def visits_for_day(*, user: User, day: dt.date) -> list[VisitPlan]:
    """Planned visits of the day, and earlier ones still not logged."""
    return list(
        VisitPlan.objects.filter(
            rep=user, status=VisitPlan.Status.PLANNED, at__lt=_start_of(day + dt.timedelta(days=1))
        )
        .select_related("customer")
        .only(*_VISIT_FIELDS, "customer__name")  # of the customer only its name is shown
        .order_by("at")
    )


def care_items(*, user: User, day: dt.date) -> list[dict[str, Any]]:
    """After-sales care events for the agenda, from the apps above that listen (aftercare)."""
    return [row for source in events.agenda_sources for row in source(user=user, day=day)]


def tracked_balance(*, user: User) -> list[rules.BandBalance]:
    counts = dict(
        Customer.objects.filter(owner=user, deleted_at__isnull=True)
        # Unjudged new leads (no effective contact yet) are not stage 0 and not in its balance.
        .exclude(stage=Stage.S0, last_contact_at__isnull=True)
        .order_by()
        .values("stage")
        .annotate(n=Count("pk"))
        .values_list("stage", "n")
    )
    return rules.tracked_balance(counts, conf("BALANCE_TARGETS"), conf("BALANCE_TOLERANCE"))


def release_proposals(*, user: User) -> list[ReleaseProposal]:
    return list(
        ReleaseProposal.objects.filter(owner=user, dismissed_at__isnull=True, customer__owner=user)
        .select_related("customer")
        .only(*_PROPOSAL_FIELDS, "customer__name")
        .order_by("proposed_at")
    )


def agenda(*, user: User, day: dt.date) -> Agenda:
    return Agenda(
        day=day,
        items=agenda_items(user=user, day=day),
        visits=visits_for_day(user=user, day=day),
        care=care_items(user=user, day=day),
        balance=tracked_balance(user=user),
        proposals=release_proposals(user=user),
    )


# --- Customers: the pool, the follow-up history, the pipeline panel -----------------------------


def pool_customers(*, user: User, q: str = "") -> QuerySet[Customer]:
    """The public pool as the user sees it, newest arrivals first.

    ``pooled_at`` is the last move into the pool; a customer created straight into the pool (no
    owner change yet) entered it when it was created, so the date is always there."""
    entered = (
        OwnerChange.objects.filter(customer=OuterRef("pk"), to_owner__isnull=True).order_by("-at").values("at")[:1]
    )
    qs = visible_customers(user).filter(owner__isnull=True)
    if q.strip():
        qs = qs.filter(search_condition(q))
        if customer_rules.classify_query(q) == "text":
            qs = qs.distinct()  # joins through tags / contacts can repeat a row
    return (
        qs.annotate(pooled_at=Coalesce(Subquery(entered), F("created_at")))
        .select_related("region")
        .order_by("-updated_at", "-pk")
    )


def customer_followups(*, customer: Customer) -> QuerySet[FollowUp]:
    return customer.follow_ups.select_related("rep").order_by("-at", "-id")


@dataclass
class PipelinePanel:
    customer: Customer
    follow_ups: list[FollowUp]
    stage_changes: list[StageChange]
    owner_changes: list[OwnerChange]
    visits: list[VisitPlan]
    profile: CustomerProfile | None
    proposal: ReleaseProposal | None
    lift_tips: tuple[str, ...]
    purpose: str


def customer_stage_changes(*, customer: Customer) -> QuerySet[StageChange]:
    return customer.stage_changes.select_related("by").order_by("-at", "-id")


def customer_owner_changes(*, customer: Customer) -> QuerySet[OwnerChange]:
    return customer.owner_changes.select_related("from_owner", "to_owner", "by").order_by("-at", "-id")


def owner_history(customer: Customer, limit: int) -> list[customer_display.ChangeView]:
    """The customer's owner changes as the archive's timeline shows them, newest first. "Created"
    (the demo's) is left out: the archive's own "created" entry names the first owner."""
    rows = customer_owner_changes(customer=customer).exclude(reason=OwnerChange.Reason.CREATED)[:limit]
    return [
        customer_display.describe_owner_change(
            at=o.at,
            actor=o.by,
            old=o.from_owner.label if o.from_owner else "",
            new=o.to_owner.label if o.to_owner else "",
            reason=f"{o.reason}:{o.detail}" if o.detail else o.reason,
        )
        for o in rows
    ]


# The customer's one-to-one rows, when the caller joined them into its fetch (access_customer's
# select_related): read from the row, no query. ``PANEL_JOINS`` is what to join.
PANEL_JOINS = ("pipeline_profile__need_category", "release_proposal")


def _is_joined(customer: Customer, name: str) -> bool:
    return Customer._meta.get_field(name).is_cached(customer)


def _joined(customer: Customer, name: str) -> Any:
    return Customer._meta.get_field(name).get_cached_value(customer)


def _open_proposal(proposal: ReleaseProposal | None) -> ReleaseProposal | None:
    return proposal if proposal is not None and proposal.dismissed_at is None else None


def customer_pipeline(*, customer: Customer, limit: int = 30) -> PipelinePanel:
    pb = get_playbook()
    return PipelinePanel(
        customer=customer,
        follow_ups=list(customer_followups(customer=customer)[:limit]),
        stage_changes=list(customer_stage_changes(customer=customer)[:limit]),
        owner_changes=list(customer_owner_changes(customer=customer)[:limit]),
        visits=list(customer.visit_plans.filter(status=VisitPlan.Status.PLANNED).select_related("rep")),
        profile=_joined(customer, "pipeline_profile")
        if _is_joined(customer, "pipeline_profile")
        else CustomerProfile.objects.filter(customer=customer).select_related("need_category").first(),
        proposal=_open_proposal(_joined(customer, "release_proposal"))
        if _is_joined(customer, "release_proposal")
        else ReleaseProposal.objects.filter(customer=customer, dismissed_at__isnull=True).first(),
        lift_tips=pb.lift_tips(customer.stage),
        purpose=pb.purpose(customer.stage),
    )


def distributable_reps(*, user: User) -> QuerySet[User]:
    return staff_in_scope(user).filter(role="rep").select_related("team").order_by("team__name", "username")


# --- The team review ----------------------------------------------------------------------------


@dataclass
class MemberReview:
    user_id: int
    name: str
    team: str
    follow_ups: int = 0
    effective: int = 0
    follow_ups_per_day: float = 0.0
    effective_per_day: float = 0.0
    overdue: int = 0
    stages: dict[int, int] = field(default_factory=dict)
    rises: int = 0
    drops: int = 0
    signed: int = 0
    hot_judgments: int = 0
    hot_right: int = 0
    hot_pending: int = 0
    hot_accuracy: float | None = None
    judgments: int = 0
    reversed: int = 0
    reversal_share: float | None = None
    # Rises the evidence does not carry (no signal and no answer, or above the signals).
    mismatches: int = 0
    mismatch_share: float | None = None

    @property
    def stage_items(self) -> list[tuple[int, int]]:
        return sorted(self.stages.items())

    @property
    def hot_decided(self) -> int:
        """Judgments whose window has closed: the denominator of hot_accuracy (pending ones are not)."""
        return self.hot_judgments - self.hot_pending


def hot_accuracy_of(members: Iterable[MemberReview]) -> float | None:
    """Stage-3/4 accuracy of several members together, the way each member's own is counted: right
    over decided. (The weekly headline divided by every judgment, pending ones included, and showed
    7 % while every rep showed 100 % or "–".)"""
    members = list(members)
    return rules.share(sum(m.hot_right for m in members), sum(m.hot_decided for m in members))


def team_review(
    *, user: User, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None
) -> list[MemberReview]:
    """Per member of the user's scope, for the days date_from..date_to (inclusive): follow-ups and
    effective ones per day, overdue customers now, stage distribution now, rises and drops,
    signings, and judgment accuracy. Five queries whatever the team size."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    start, end = _start_of(date_from), _start_of(date_to + dt.timedelta(days=1))
    days = (date_to - date_from).days + 1
    members = list(staff_in_scope(user).select_related("team").order_by("team__name", "username"))
    out = {m.pk: MemberReview(user_id=m.pk, name=m.label, team=m.team.name if m.team else "") for m in members}
    ids = list(out)

    for rep_id, n, eff in (
        FollowUp.objects.filter(rep_id__in=ids, at__gte=start, at__lt=end)
        .order_by()
        .values("rep_id")
        # Counted over rep_id, not id: PostgreSQL then answers from the index alone.
        .annotate(n=Count("rep_id"), eff=Count("rep_id", filter=Q(effective=True)))
        .values_list("rep_id", "n", "eff")
    ):
        r = out[rep_id]
        r.follow_ups, r.effective = n, eff
        r.follow_ups_per_day = round(n / days, 2)
        r.effective_per_day = round(eff / days, 2)

    for owner_id, stage, n, late in (
        Customer.objects.filter(owner_id__in=ids, deleted_at__isnull=True)
        .order_by()
        .values("owner_id", "stage")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(next_due_on__lt=today)))
        .values_list("owner_id", "stage", "n", "late")
    ):
        r = out[owner_id]
        r.stages[stage] = n
        r.overdue += late

    # No order: the counts below do not depend on it, and sorting by "at" made SQLite walk the
    # whole period's changes by the "at" index instead of the members' (owner, at) ranges.
    changes = list(
        StageChange.objects.filter(owner_id__in=ids, at__gte=start, at__lt=end)
        .order_by()
        .values_list("pk", "owner_id", "customer_id", "from_stage", "to_stage", "at", "customer__signed_at", "mismatch")
    )
    hot: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for _pk, owner_id, _cid, frm, to, at, signed_at, mismatch in changes:
        r = out[owner_id]
        if to == Stage.SIGNED:
            r.signed += 1
        elif rules.is_rise(frm, to):
            r.rises += 1
            r.mismatches += int(bool(mismatch))
        elif frm is not None and to < frm:
            r.drops += 1
        if to in (3, 4) and rules.is_rise(frm, to):
            hot[owner_id].append((at, signed_at))
    for owner_id, judgments in hot.items():
        acc = rules.hot_judgment_accuracy(judgments, now=now, within_days=conf("ACCURACY_SIGN_WITHIN_DAYS"))
        r = out[owner_id]
        r.hot_judgments, r.hot_right, r.hot_pending, r.hot_accuracy = len(judgments), acc.right, acc.pending, acc.share
    for r in out.values():
        r.mismatch_share = rules.share(r.mismatches, r.rises)

    # Reversals need each customer's later changes too, whoever made them.
    in_period = {
        pk: owner_id for pk, owner_id, _c, frm, to, *_ in changes if rules.is_rise(frm, to) and to < Stage.SIGNED
    }
    if in_period:
        customer_ids = {cid for pk, _o, cid, *_ in changes if pk in in_period}
        timeline: dict[int, list[tuple[int, dt.datetime, int | None, int]]] = defaultdict(list)
        for pk, cid, at, frm, to in (
            StageChange.objects.filter(customer_id__in=customer_ids, at__gte=start)
            .order_by("customer_id", "at", "pk")
            .values_list("pk", "customer_id", "at", "from_stage", "to_stage")
        ):
            timeline[cid].append((pk, at, frm, to))
        judged: Counter[int] = Counter()
        reversed_: Counter[int] = Counter()
        for rows in timeline.values():
            flags = rules.reversed_rises([(at, frm, to) for _pk, at, frm, to in rows])
            for (pk, *_rest), flag in zip(rows, flags, strict=True):
                if pk in in_period:
                    judged[in_period[pk]] += 1
                    reversed_[in_period[pk]] += int(flag)
        for owner_id, n in judged.items():
            r = out[owner_id]
            r.judgments, r.reversed = n, reversed_[owner_id]
            r.reversal_share = rules.share(r.reversed, n)
    return list(out.values())


# --- The agenda's cards: what the rep needs during the call -------------------------------------


def last_notes(customer_ids: Iterable[int]) -> dict[int, str]:
    """The first line of each customer's latest follow-up note (one query): what was said last
    time, so the rep picks up the thread without opening the customer."""
    ids = list(customer_ids)
    if not ids:
        return {}
    latest = FollowUp.objects.filter(customer=OuterRef("customer_id")).exclude(summary="").order_by("-at", "-id")
    rows = (
        FollowUp.objects.filter(customer_id__in=ids)
        .exclude(summary="")
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .values_list("customer_id", "summary")
    )
    return {cid: summary.strip().splitlines()[0][:120] for cid, summary in rows if summary.strip()}


@dataclass(frozen=True)
class CallGuide:
    """The judging questions of a stage and the tips to lift it to the next one (the playbook's)."""

    questions: tuple[str, ...]
    lift_tips: tuple[str, ...]
    next_stage: int | None


def call_guides() -> dict[int, CallGuide]:
    """Per stage, what the rep asks during the call; worked out once per page, not per card."""
    pb = get_playbook()
    out = {}
    for stage in Stage.values:
        g = pb.guide(stage)
        out[stage] = CallGuide(
            questions=g.questions if g else (), lift_tips=pb.lift_tips(stage), next_stage=rules.next_stage(stage)
        )
    return out


def agenda_filter(
    items: list[AgendaItem], *, band: str = "", overdue: bool = False, stage: int | None = None
) -> list[AgendaItem]:
    """The agenda's cards narrowed by band (3-4, 1-2, 0, E), by overdue only and by stage."""
    return [
        i
        for i in items
        if (not band or i.band == band) and (not overdue or i.overdue_days > 0) and (stage is None or i.stage == stage)
    ]


def judgment_mismatches(*, user: User, rep_id: int, date_from: dt.date, date_to: dt.date) -> list[StageChange]:
    """A rep's judgments the evidence did not carry, newest first — the list a lead opens from the
    team review. Empty for a rep outside the user's scope (or for a user who manages no one)."""
    if not staff_in_scope(user).filter(pk=rep_id).exists():
        return []
    return list(
        StageChange.objects.filter(
            owner_id=rep_id,
            at__gte=_start_of(date_from),
            at__lt=_start_of(date_to + dt.timedelta(days=1)),
        )
        .exclude(mismatch="")
        .select_related("customer", "by", "follow_up")
        .order_by("-at", "-id")
    )


# --- Visiting old customers nearby (顺便拜访, seed 001) ----------------------------------------------

NEARBY_SIGNED_LIMIT = 10


def nearby_signed_customers(*, rep: User, customer: Customer, limit: int = NEARBY_SIGNED_LIMIT) -> list[Customer]:
    """The rep's own signed customers in the same city as ``customer`` (and the same province when
    both are known): seed 001 "利用出访的机会拜访附近的老客户". Offered when a visit is planned.
    Nothing when the customer's city is unknown; the address is free text and not compared."""
    if not customer.city:
        return []
    qs = visible_customers(rep, include_pool=False).filter(
        owner=rep, stage=Stage.SIGNED, city=customer.city, deleted_at__isnull=True
    )
    if customer.province:
        qs = qs.filter(Q(province=customer.province) | Q(province=""))
    return list(
        qs.exclude(pk=customer.pk)
        .order_by("last_contact_at", "pk")
        .only("id", "name", "address", "last_contact_at")[:limit]
    )
