"""The after-sale report: contracts, payments, care and maintenance costs in the viewer's scope."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from yixiang.accounts.models import User
from yixiang.customers.models import Customer, Stage
from yixiang.replica import replica_reads
from yixiang.reports import rules
from yixiang.reports.conf import conf
from yixiang.reports.selectors import ReportFilters, _owned, selected_staff

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
