"""Care through the API: the care calendar for a date range, ticking a care task off (or reopening it)
and recording a quick care greeting.
The task list itself is GET /care (aftercare/api.py), already for any range up to 366 days."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yixiang.aftercare import selectors, services
from yixiang.aftercare.api import MAX_CARE_RANGE_DAYS, CareTaskOut
from yixiang.aftercare.care_words import QUICK_CARE
from yixiang.api_types import IsoDate
from yixiang.customers.scoping import access_customer
from yixiang.errors import ValidationFailed

router = Router(tags=["aftercare"])
routers = [("", router)]


class ErrorOut(Schema):
    detail: str
    code: str


class OccasionOut(Schema):
    on: dt.date
    kind: str = Field(
        description="birthday, special_day, life_event, festival, holiday, workday, payout, contract_end …"
    )
    label: str
    customer_id: int | None
    customer_name: str
    extra: dict


class CalendarParams(Schema):
    from_: IsoDate | None = Field(None, alias="from", description="First day (default today)")
    to: IsoDate | None = Field(None, description="Last day (default from + 30 days); at most 366 days")
    festivals: bool = Field(True, description="Include festivals and statutory days off")


@router.get(
    "/care/calendar",
    response={200: list[OccasionOut], 400: ErrorOut, 422: ErrorOut},
    summary="What is coming for the customers you hold: birthdays, special days, life events, payouts …",
)
def care_calendar(request: HttpRequest, params: Query[CalendarParams]):
    start = params.from_ or timezone.localdate()
    end = params.to or start + dt.timedelta(days=30)
    if end < start:
        raise ValidationFailed({"to": [_("'to' is before 'from'.")]})
    if (end - start).days > MAX_CARE_RANGE_DAYS:
        raise ValidationFailed({"to": [_("At most %(n)s days at a time.") % {"n": MAX_CARE_RANGE_DAYS}]})
    # The selector computes at most MAX_CALENDAR_DAYS at a time (it is the page's month view):
    # a longer range is read in consecutive windows.
    out = []
    window = dt.timedelta(days=selectors.MAX_CALENDAR_DAYS)
    day = start
    while day <= end:
        last = min(day + window, end)
        out += [o for o in selectors.care_calendar(request.user, day, last, festivals=params.festivals) if o.on <= last]
        day = last + dt.timedelta(days=1)
    return sorted(out, key=lambda o: (o.on, o.kind, o.customer_id or 0))


class TaskDoneIn(Schema):
    outcome: str = Field("", max_length=300, description="What came of it (kept with the task).")


@router.post(
    "/care/{task_id}/done",
    response={200: CareTaskOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Mark a care task done",
)
def care_task_done(request: HttpRequest, task_id: int, payload: TaskDoneIn):
    task = selectors.care_task_access(request.user, task_id)
    return services.care_task_done(actor=request.user, task=task, outcome=payload.outcome)


@router.post(
    "/care/{task_id}/reopen",
    response={200: CareTaskOut, 404: ErrorOut, 422: ErrorOut},
    summary="Reopen a care task ticked off by mistake",
)
def care_task_reopen(request: HttpRequest, task_id: int):
    task = selectors.care_task_access(request.user, task_id)
    return services.care_task_reopen(actor=request.user, task=task)


class QuickCareIn(Schema):
    kind: Literal[tuple(QUICK_CARE)]  # type: ignore[valid-type]
    note: str = Field("", max_length=300, description="What you said or did (kept with the record).")


@router.post(
    "/customers/{customer_id}/care-actions",
    response={201: CareTaskOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Record a care greeting just made for one of your own customers (rain, snow, fog, illness, "
    "an elderly customer living alone)",
)
def record_quick_care(request: HttpRequest, customer_id: int, payload: QuickCareIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    return Status(
        201, services.care_quick_record(actor=request.user, customer=customer, kind=payload.kind, note=payload.note)
    )
