"""Incentive API: the month's statements (scoped to the caller), the month's summary, the inputs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from yixiang.api_types import IsoDate, Month
from yixiang.errors import ValidationFailed
from yixiang.incentives import rules, selectors, services

router = Router(tags=["incentives"])


def _month(text: str) -> dt.date:
    try:
        month = rules.parse_month(text)
    except ValueError:
        raise ValidationFailed({"month": [_("Give the month as YYYY-MM, e.g. 2011-04.")]}) from None
    return selectors.bounded_month(month)  # 400 outside the months data can be in


class CustomerRef(Schema):
    id: int
    name: str


class LineOut(Schema):
    kind: str
    customer: CustomerRef | None
    amount: int = Field(..., description="Signed whole yuan: negative is a penalty.")
    reason: str
    funding_source: str | None = Field(
        None,
        description="Rewards: month_penalties, penalty_fund, management_fund, efficiency_wages, not_covered "
        "(paid beyond the month's funds) or held_back (months closed before rewards were always paid).",
    )
    held_back: int = 0
    refers_to_month: str | None = Field(None, description="Adjustments: the month they settle (YYYY-MM).")


class StatementOut(Schema):
    user: str
    name: str
    role: str = Field(..., description="manager (区域经理) or director (大区经理)")
    threshold: int | None
    valid_customers: int
    total: int
    on_probation: bool
    performance_pay: int | None
    target: int | None
    target_filed_late: bool
    approved_target: int | None
    backlog_in: int
    backlog_out: int
    lines: list[LineOut]


class FundingOut(Schema):
    fund_before: int
    penalties: int
    from_penalties: int
    from_fund: int
    from_management: int
    held_back: int
    fund_after: int
    management_fund: int
    efficiency_wages: int
    from_wages: int
    shortfall: int = Field(description="Rewards paid beyond the month's funds (all earned rewards are paid).")


class MonthOut(Schema):
    month: str
    closed: bool
    scheme: str
    statements: int
    funding: FundingOut | None = Field(None, description="Company-wide; administrators only.")
    shortfall: int | None = Field(
        None,
        description="Rewards paid beyond the month's funds (directors and administrators); 0 when the funds cover them.",
    )


def statement_payload(s: selectors.StatementView) -> dict[str, Any]:
    return {
        "user": s.username,
        "name": s.name,
        "role": s.role,
        "threshold": s.threshold,
        "valid_customers": s.valid_customers,
        "total": s.total,
        "on_probation": s.on_probation,
        "performance_pay": s.performance_pay,
        "target": s.target,
        "target_filed_late": s.target_late,
        "approved_target": s.approved_target,
        "backlog_in": s.backlog_in,
        "backlog_out": s.backlog_out,
        "lines": [
            {
                "kind": line.kind,
                "customer": {"id": line.customer_id, "name": line.customer_name} if line.customer_id else None,
                "amount": line.amount,
                "reason": line.reason,
                "funding_source": line.funding,
                "held_back": line.held_back,
                "refers_to_month": line.refers_to.strftime("%Y-%m") if line.refers_to else None,
            }
            for line in s.lines
        ],
    }


@router.get("/statements", response=list[StatementOut])
def statements(request: HttpRequest, month: Month):
    """One statement per assessed person in the month that the caller may see."""
    view = selectors.month_statements(fetched_by=request.user, month=_month(month))
    return [statement_payload(s) for s in view.statements]


@router.get("/months/{month}", response=MonthOut)
def month_summary(request: HttpRequest, month: Month):
    view = selectors.month_statements(fetched_by=request.user, month=_month(month))
    f = view.funding
    return {
        "month": view.month.strftime("%Y-%m"),
        "closed": view.closed,
        "scheme": view.version,
        "statements": len(view.statements),
        "funding": {k: getattr(f, k) for k in rules.FUNDING_FIELDS} if f is not None else None,
        "shortfall": view.shortfall,
    }


@router.post("/months/{month}/close", response=MonthOut)
def month_close(request: HttpRequest, month: Month):
    """Freeze the month (administrators; months close in order, once over)."""
    services.month_close(actor=request.user, month=_month(month))
    return month_summary(request, month)


class AssessmentIn(Schema):
    user_id: int
    month: Month
    threshold: int | None = None
    performance_pay: int = Field(..., ge=0)
    target: int | None = Field(None, ge=0)
    on_probation: bool | None = None


class AssessmentOut(Schema):
    id: int
    user: str
    month: str
    threshold: int | None
    performance_pay: int
    target: int | None
    target_filed_at: dt.datetime | None
    on_probation: bool


@router.post("/assessments", response=AssessmentOut)
def assessment_save(request: HttpRequest, payload: AssessmentIn):
    """File a person's row for a month (directors for their region, administrators)."""
    row = services.assessment_save(
        actor=request.user,
        user_id=payload.user_id,
        month=_month(payload.month),
        threshold=payload.threshold,
        performance_pay=payload.performance_pay,
        target=payload.target,
        on_probation=payload.on_probation,
    )
    return {
        "id": row.pk,
        "user": row.user.username,
        "month": row.month.strftime("%Y-%m"),
        "threshold": row.threshold,
        "performance_pay": row.performance_pay,
        "target": row.target,
        "target_filed_at": row.target_filed_at,
        "on_probation": row.on_probation,
    }


class DevelopedIn(Schema):
    customer_id: int
    developer_id: int
    month: Month
    reported_on: IsoDate | None = None


class DevelopedOut(Schema):
    id: int
    customer: CustomerRef
    developer: str
    month: str
    reported_on: dt.date = Field(description="When it was reported; it does not rank.")
    position: int = Field(description="The region's reported order within the month (item 8).")
    faked: bool
    faked_found_month: str | None


def _developed_payload(row) -> dict[str, Any]:
    return {
        "id": row.pk,
        "customer": {"id": row.customer_id, "name": row.customer.name},
        "developer": row.developer.username,
        "month": row.month.strftime("%Y-%m"),
        "reported_on": row.reported_on,
        "position": row.position,
        "faked": row.faked,
        "faked_found_month": row.faked_found_month.strftime("%Y-%m") if row.faked_found_month else None,
    }


@router.post("/developed", response=DevelopedOut)
def developed_record(request: HttpRequest, payload: DevelopedIn):
    """Record by hand that a person developed a customer in a month."""
    row = services.developed_customer_record(
        actor=request.user,
        customer_id=payload.customer_id,
        developer_id=payload.developer_id,
        month=_month(payload.month),
        reported_on=payload.reported_on,
    )
    return _developed_payload(row)


class FakedIn(Schema):
    found_month: Month | None = None
    note: str = Field("", max_length=300)


@router.post("/developed/{developed_id}/faked", response=DevelopedOut)
def developed_mark_faked(request: HttpRequest, developed_id: int, payload: FakedIn):
    """Mark a development as faked (administrators); the fines fall in the month found."""
    row = services.developed_customer_mark_faked(
        actor=request.user,
        developed_id=developed_id,
        found_month=_month(payload.found_month) if payload.found_month else None,
        note=payload.note,
    )
    return _developed_payload(row)


# --- The region's reported order and the month's reward funds -------------------------------------


@router.get("/developed", response=list[DevelopedOut])
def developed_list(request: HttpRequest, month: Month):
    """The month's new customers the caller keeps, in the region's reported order."""
    if not selectors.keeps_inputs(request.user):
        raise services.forbidden()
    rows = selectors.developed_for(fetched_by=request.user, month=_month(month))
    return [_developed_payload(r) for r in rows]


class DevelopedOrderIn(Schema):
    month: Month
    ids: list[int] = Field(description="Every developed-customer id of the month the caller keeps, first to last.")


@router.put("/developed/order", response=list[DevelopedOut])
def developed_order(request: HttpRequest, payload: DevelopedOrderIn):
    """Set the region's reported order (item 8: it decides which customers fill the threshold)."""
    services.developed_order_set(actor=request.user, month=_month(payload.month), ids=payload.ids)
    rows = selectors.developed_for(fetched_by=request.user, month=_month(payload.month))
    return [_developed_payload(r) for r in rows]


class MonthFundsIn(Schema):
    management_fund: int = Field(..., ge=0, description="The management-assessment fund available (yuan).")
    efficiency_wages: int = Field(..., ge=0, description="The team efficiency wages available (yuan).")


class MonthFundsOut(MonthFundsIn):
    month: str


@router.put("/months/{month}/funds", response=MonthFundsOut)
def month_funds(request: HttpRequest, month: Month, payload: MonthFundsIn):
    """Enter the month's third source for rewards (administrators; not once the month is closed)."""
    row = services.month_funds_set(
        actor=request.user,
        month=_month(month),
        management_fund=payload.management_fund,
        efficiency_wages=payload.efficiency_wages,
    )
    return {
        "month": row.month.strftime("%Y-%m"),
        "management_fund": row.management_fund,
        "efficiency_wages": row.efficiency_wages,
    }


routers = [("/incentives", router)]
