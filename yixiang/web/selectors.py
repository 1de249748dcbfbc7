"""Reads for the home dashboard, scoped like every other read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count

from yixiang.accounts.models import User
from yixiang.customers.models import Customer, CustomerChange, Stage
from yixiang.customers.scoping import visible_customers
from yixiang.pipeline.models import OwnerChange


@dataclass
class StageCount:
    stage: int
    label: str
    count: int
    percent: int  # bar length relative to the biggest stage


def stage_counts(user: User) -> list[StageCount]:
    """Visible customers per intent stage, every stage listed (zero included), in stage order."""
    rows = dict(visible_customers(user).order_by().values_list("stage").annotate(n=Count("pk")))
    biggest = max(rows.values(), default=0)
    return [
        StageCount(
            stage=stage.value,
            label=str(stage.label),
            count=rows.get(stage.value, 0),
            percent=round(100 * rows.get(stage.value, 0) / biggest) if biggest else 0,
        )
        for stage in Stage
    ]


@dataclass
class RecentChange:
    customer: Customer
    at: dt.datetime
    action: str


def recent_changes(user: User, *, limit: int = 10) -> list[RecentChange]:
    """The user's own latest changes on customers they can still see: archive changes and the owner
    changes they made (the pipeline's OwnerChange rows, the one record of those)."""
    visible = visible_customers(user)
    changes = [
        RecentChange(customer=c.customer, at=c.at, action=c.get_action_display())
        for c in CustomerChange.objects.filter(actor=user, customer__in=visible)
        .exclude(action=CustomerChange.Action.OWNER)  # the twins of OwnerChange rows, written before
        .select_related("customer")
        .order_by("-at", "-id")[:limit]
    ]
    changes += [
        RecentChange(customer=o.customer, at=o.at, action=str(CustomerChange.Action.OWNER.label))
        for o in OwnerChange.objects.filter(by=user, customer__in=visible)
        .exclude(reason=OwnerChange.Reason.CREATED)
        .select_related("customer")
        .order_by("-at", "-id")[:limit]
    ]
    return sorted(changes, key=lambda c: c.at, reverse=True)[:limit]
