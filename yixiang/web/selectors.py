"""Reads for the home dashboard, scoped like every other read."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from yixiang.accounts.models import User
from yixiang.customers.models import CustomerChange, Stage
from yixiang.customers.scoping import visible_customers


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


def recent_changes(user: User, *, limit: int = 10) -> QuerySet[CustomerChange]:
    """The user's own latest changes on customers they can still see."""
    return (
        CustomerChange.objects.filter(actor=user, customer__in=visible_customers(user))
        .select_related("customer")
        .order_by("-at", "-id")[:limit]
    )
