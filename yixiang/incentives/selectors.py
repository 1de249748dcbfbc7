"""Reads of the incentive scheme, always through the reader's staff scope.

A person sees their own statement, a lead the team's, a director the region's, an admin all
(``accounts.scoping.staff_in_scope``). The month itself is computed for the whole company (the
funding order is company-wide), then cut down to the scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from yixiang.accounts import permissions
from yixiang.accounts.models import User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.scoping import visible_customers
from yixiang.incentives import display, rules
from yixiang.incentives.engine import Engine, check_month
from yixiang.incentives.models import Assessment, DevelopedCustomer, SchemeVersion


def bounded_month(month: dt.date) -> dt.date:
    """The month's first day if incentives can be computed for it (rules.month_bounds); raises
    engine.MonthOutOfRange (a year ahead or more, before 1900) or NoScheme (before the first version).
    Every entry point taking a month calls this before any work."""
    month = rules.month_start(month)
    check_month(list(SchemeVersion.objects.order_by("valid_from")[:1]), month, timezone.localdate())
    return month


@dataclass
class LineView:
    kind: str
    kind_label: str
    customer_id: int | None
    customer_name: str
    amount: int
    reason: str
    funding: str | None
    funding_label: str
    held_back: int
    refers_to: dt.date | None


@dataclass
class StatementView:
    user_id: int
    username: str
    name: str
    role: str
    role_label: str
    threshold: int | None
    valid_customers: int
    total: int
    lines: list[LineView]
    on_probation: bool
    performance_pay: int | None
    target: int | None
    target_late: bool
    approved_target: int | None
    backlog_in: int
    backlog_out: int


@dataclass
class MonthView:
    month: dt.date
    closed: bool
    version: str
    statements: list[StatementView] = field(default_factory=list)
    funding: rules.Funding | None = None  # company-wide: administrators only
    # Rewards paid beyond the month's funds (item 11): shown to directors and administrators,
    # who must find the money; None for readers who keep no inputs.
    shortfall: int | None = None


def _line_view(line: rules.Line) -> LineView:
    return LineView(
        kind=line.kind,
        kind_label=display.kind_label(line.kind),
        customer_id=line.customer_id,
        customer_name=line.customer_name,
        amount=line.amount,
        reason=display.reason_text(line),
        funding=line.funding,
        funding_label=display.funding_label(line.funding),
        held_back=line.held_back,
        refers_to=line.refers_to,
    )


def month_statements(*, fetched_by: User, month: dt.date, engine: Engine | None = None) -> MonthView:
    """The month's statements the reader may see (raises engine.NoScheme without a version)."""
    engine = engine or Engine()
    month = rules.month_start(month)
    result = engine.result(month)
    version = engine.version(month)
    statements = result.statements
    if not fetched_by.is_admin_role:
        allowed = set(staff_in_scope(fetched_by).values_list("pk", flat=True))
        statements = [s for s in statements if s.user_id in allowed]
    people = {
        pk: (name, role)
        for pk, name, role in User.objects.filter(pk__in=[s.user_id for s in statements]).values_list(
            "pk", "display_name", "role"
        )
    }
    names = {pk: name for pk, (name, _role) in people.items()}
    views = [
        StatementView(
            user_id=s.user_id,
            username=s.username,
            name=names.get(s.user_id) or s.username,
            role=s.role,
            role_label=display.role_label(s.role, people.get(s.user_id, ("", ""))[1]),
            threshold=s.threshold,
            valid_customers=s.valid_customers,
            total=s.total,
            lines=[_line_view(x) for x in s.lines],
            on_probation=s.on_probation,
            performance_pay=s.performance_pay,
            target=s.target,
            target_late=s.target_late,
            approved_target=s.approved_target,
            backlog_in=s.backlog_in,
            backlog_out=s.backlog_out,
        )
        for s in statements
    ]
    return MonthView(
        month=month,
        closed=engine.is_closed(month),
        version=version.name,
        statements=views,
        funding=result.funding if fetched_by.is_admin_role else None,
        shortfall=result.funding.shortfall if keeps_inputs(fetched_by) else None,
    )


def scheme_versions() -> QuerySet[SchemeVersion]:
    return SchemeVersion.objects.order_by("-valid_from")


def assessments_for(*, fetched_by: User, month: dt.date) -> QuerySet[Assessment]:
    return (
        Assessment.objects.filter(month=rules.month_start(month), user__in=staff_in_scope(fetched_by))
        .select_related("user", "user__team")
        .order_by("user__username")
    )


def developed_for(*, fetched_by: User, month: dt.date) -> QuerySet[DevelopedCustomer]:
    """Customers developed in the month, or found faked in it, among the reader's customers."""
    month = rules.month_start(month)
    return (
        DevelopedCustomer.objects.filter(Q(month=month) | Q(faked_found_month=month))
        .filter(customer__in=visible_customers(fetched_by, include_pool=True, include_deleted=True))
        .select_related("customer", "developer")
        .order_by("position", "id")
    )


def keeps_inputs(user: User) -> bool:
    """Whether the user keeps the monthly inputs (directors for their region, administrators)."""
    return permissions.keeps_incentive_inputs(user)
