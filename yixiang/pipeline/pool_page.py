"""The public pool page as a rep works it: filters, who let each customer go and why, how long it
has waited, and whether this rep may claim it (with the reason when not).

A read module of its own so the pool screen can grow without touching the shared selectors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.accounts.models import User
from yixiang.customers.models import Customer, Stage
from yixiang.pipeline import rules
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import OwnerChange, ReleaseReason
from yixiang.pipeline.selectors import pool_customers

# Short words for the reason column (the release form keeps the method's full sentences).
REASON_WORDS = {
    ReleaseReason.NO_RISE: _("Many contacts, no rise"),
    ReleaseReason.NO_DECISION_MAKER: _("Decision-maker not found"),
    ReleaseReason.REP_MISTAKE: _("Lost trust after a mistake"),
    ReleaseReason.PUSHED_TOO_HARD: _("Pushed too hard"),
    ReleaseReason.OTHER: _("Other"),
    rules.RECYCLE_OVERDUE: _("Recycled: overdue"),
    rules.RECYCLE_HELD_TOO_LONG: _("Recycled: held too long"),
}
CREATED_IN_POOL = "new"  # no owner ever let it go: created (or imported) straight into the pool

# "Days in pool" buckets: (key, label, min days, max days or None).
DAY_BUCKETS = (
    ("0-7", _("Up to 7 days"), 0, 7),
    ("8-30", _("8–30 days"), 8, 30),
    ("31-90", _("31–90 days"), 31, 90),
    ("90+", _("More than 90 days"), 91, None),
)


def reason_words(detail: str | None) -> str:
    if not detail:
        return str(_("Added to the pool"))
    return str(REASON_WORDS.get(detail, detail))


@dataclass(frozen=True)
class PoolFilters:
    q: str = ""
    city: str = ""
    industry: str = ""
    stage: int | None = None
    reason: str = ""
    days: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> PoolFilters:
        stage_raw = params.get("stage", "")
        try:
            stage = int(stage_raw) if stage_raw != "" else None
        except ValueError:
            stage = None
        if stage is not None and stage not in Stage.values:
            stage = None
        reason = params.get("reason", "")
        if reason not in (*REASON_WORDS, CREATED_IN_POOL):
            reason = ""
        days = params.get("days", "")
        if days not in {b[0] for b in DAY_BUCKETS}:
            days = ""
        return cls(
            q=params.get("q", "")[:100],
            city=params.get("city", "")[:30],
            industry=params.get("industry", "")[:100],
            stage=stage,
            reason=reason,
            days=days,
        )

    @property
    def active(self) -> bool:
        return bool(self.city or self.industry or self.stage is not None or self.reason or self.days)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def pool_rows(*, user: User, filters: PoolFilters, today: dt.date | None = None) -> QuerySet[Customer]:
    """The pool with the last release's former owner and reason, filtered."""
    today = today or timezone.localdate()
    entry = OwnerChange.objects.filter(customer=OuterRef("pk"), to_owner__isnull=True).order_by("-at", "-id")
    qs = (
        pool_customers(user=user, q=filters.q)
        .annotate(
            former_owner_name=Subquery(entry.values("from_owner__display_name")[:1]),
            former_owner_username=Subquery(entry.values("from_owner__username")[:1]),
            pool_reason=Subquery(entry.values("detail")[:1]),
            pool_note=Subquery(entry.values("note")[:1]),
        )
        .order_by("-pooled_at", "-pk")
    )  # newest arrivals first
    if filters.city:
        qs = qs.filter(city=filters.city)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.stage is not None:
        # Nobody follows a pool customer up, so its stage is the one it was released at.
        qs = qs.filter(stage=filters.stage)
    if filters.reason == CREATED_IN_POOL:
        qs = qs.filter(Q(pool_reason__isnull=True) | Q(pool_reason=""))
    elif filters.reason:
        qs = qs.filter(pool_reason=filters.reason)
    if filters.days:
        _key, _label, low, high = next(b for b in DAY_BUCKETS if b[0] == filters.days)
        # Entered on day D has been D..today: "n days" counts whole local days since entry.
        qs = qs.filter(pooled_at__lt=_start_of(today - dt.timedelta(days=low - 1)))
        if high is not None:
            qs = qs.filter(pooled_at__gte=_start_of(today - dt.timedelta(days=high)))
    return qs


@dataclass(frozen=True)
class ClaimState:
    """What the rep may still claim today, for the header and each row's button."""

    claims_today: int
    max_per_day: int
    tracked: int
    max_tracked: int

    @property
    def claims_left(self) -> int:
        return max(0, self.max_per_day - self.claims_today)


def claim_state(*, user: User, today: dt.date | None = None) -> ClaimState:
    from yixiang.pipeline.pool import tracked_count

    today = today or timezone.localdate()
    return ClaimState(
        claims_today=OwnerChange.objects.filter(
            to_owner=user, reason=OwnerChange.Reason.CLAIM, at__gte=_start_of(today)
        ).count(),
        max_per_day=conf("MAX_CLAIMS_PER_DAY"),
        tracked=tracked_count(user),
        max_tracked=conf("MAX_TRACKED"),
    )


def row_refusals(
    *, user: User, customer_ids: Sequence[int], state: ClaimState, today: dt.date | None = None
) -> dict[int, str]:
    """Per row, the rule that stops this rep's claim (the same rule the claim service applies)."""
    today = today or timezone.localdate()
    left: dict[int, dt.date] = {}
    for cid, at in (
        OwnerChange.objects.filter(customer_id__in=customer_ids, from_owner=user, to_owner__isnull=True)
        .order_by("customer_id", "at")
        .values_list("customer_id", "at")
    ):
        left[cid] = timezone.localtime(at).date()  # ascending: the last one wins
    out: dict[int, str] = {}
    for cid in customer_ids:
        refusal = rules.claim_refusal(
            tracked_count=state.tracked,
            claims_today=state.claims_today,
            left_claimant_on=left.get(cid),
            today=today,
            max_tracked=state.max_tracked,
            max_claims_per_day=state.max_per_day,
            reclaim_block_days=conf("RECLAIM_BLOCK_DAYS"),
        )
        if refusal:
            out[cid] = refusal
    return out


def refusal_words(code: str, *, left_on: dt.date | None = None) -> str:
    if code == rules.CLAIM_RECLAIM_BLOCKED:
        return str(_("You let it go less than %(days)s days ago") % {"days": conf("RECLAIM_BLOCK_DAYS")})
    if code == rules.CLAIM_MAX_TRACKED:
        return str(_("Your list is full"))
    return str(_("Daily limit reached"))


def filter_choices(*, user: User) -> dict[str, list]:
    """The values present in the pool, for the filter selects."""
    base = pool_customers(user=user).order_by()
    return {
        "cities": sorted(c for c in base.values_list("city", flat=True).distinct() if c),
        "industries": sorted(i for i in base.values_list("industry", flat=True).distinct() if i),
        "stages": [(s.value, s.label) for s in Stage if s != Stage.SIGNED],
        "reasons": [(k, v) for k, v in REASON_WORDS.items()] + [(CREATED_IN_POOL, _("Added to the pool"))],
        "days": [(b[0], b[1]) for b in DAY_BUCKETS],
    }
