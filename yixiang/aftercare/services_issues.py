"""Complaints, disputes and suggestions recorded on a customer: what, when, who handles it,
resolved when. Open ones are on the handler's agenda; a complaint or dispute lowers the loyalty
level to the level it shows (never raises it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.aftercare import loyalty_ladder
from yixiang.aftercare.models import CustomerCare, CustomerIssue
from yixiang.aftercare.services import care_of
from yixiang.aftercare.services_loyalty import loyalty_set
from yixiang.customers.models import Customer
from yixiang.errors import Conflict, ValidationFailed

# The loyalty level a complaint or a dispute shows at best (product defaults: the seed names the
# levels, not what moves a customer between them): a complaint is 不悦, a dispute 生气.
ISSUE_LOYALTY = {CustomerIssue.Kind.COMPLAINT: "unhappy", CustomerIssue.Kind.DISPUTE: "angry"}


@transaction.atomic
def issue_record(
    *, actor: User, customer: Customer, kind: str, what: str, handler: User, raised_on: dt.date | None = None
) -> CustomerIssue:
    what = (what or "").strip()
    if kind not in CustomerIssue.Kind.values:
        raise ValidationFailed({"kind": [_("Choose complaint, dispute or suggestion.")]})
    if not what:
        raise ValidationFailed({"what": [_("Say what the customer raised.")]})
    if raised_on is not None and raised_on > timezone.localdate():
        raise ValidationFailed({"raised_on": [_("The day it was raised cannot be in the future.")]})
    issue = CustomerIssue.objects.create(
        customer=customer,
        kind=kind,
        what=what[:2000],
        raised_on=raised_on or timezone.localdate(),
        handler=handler,
        recorded_by=actor,
    )
    floor = ISSUE_LOYALTY.get(kind)
    if floor:
        care = CustomerCare.objects.filter(pk=customer.pk).first() or care_of(customer)
        current = care.loyalty_level
        if not current or loyalty_ladder.height(current) > loyalty_ladder.height(floor):
            loyalty_set(actor=actor, customer=customer, level=floor, note=f"{issue.get_kind_display()}: {what[:200]}")
    return issue


@transaction.atomic
def issue_resolve(*, actor: User, issue: CustomerIssue, resolution: str) -> CustomerIssue:
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationFailed({"resolution": [_("Say how it was resolved.")]})
    current = CustomerIssue.objects.select_for_update().get(pk=issue.pk)
    if current.resolved_at is not None:
        raise Conflict(_("This was already resolved."))
    current.resolved_at, current.resolution = timezone.now(), resolution[:2000]
    current.save(update_fields=["resolved_at", "resolution"])
    return current


def agenda_open_issues(*, user: Any, day: dt.date) -> list[dict[str, Any]]:
    """The handler's unresolved issues, every day until resolved (rows like the care items)."""
    labels = dict(CustomerIssue.Kind.choices)
    rows = (
        CustomerIssue.objects.filter(handler=user, resolved_at__isnull=True, raised_on__lte=day)
        .order_by("raised_on", "id")
        .values("pk", "kind", "customer_id", "customer__name", "what", "raised_on")
    )
    return [
        {
            "id": r["pk"],
            "kind": f"issue_{r['kind']}",
            "kind_label": str(labels[r["kind"]]),
            "customer_id": r["customer_id"],
            "customer_name": r["customer__name"],
            "title": f"{labels[r['kind']]}: {r['what'][:60]}",
            "due_on": r["raised_on"],
            "overdue_days": max((day - r["raised_on"]).days, 0),
            "suggestion": str(loyalty_ladder.recovery_action(ISSUE_LOYALTY.get(r["kind"], ""))),
            "url": reverse("customer_detail", args=[r["customer_id"]]),
        }
        for r in rows
    ]
