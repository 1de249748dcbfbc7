"""Regional events through the API: a lead or director records a storm, flood … for an area and a
date, and every customer there in their scope gets a care task (the page's service)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from yixiang.accounts.models import Region
from yixiang.aftercare import selectors, services, services_campaigns
from yixiang.aftercare.models import RegionalEvent
from yixiang.api_types import IsoDate
from yixiang.customers.scoping import visible_customers
from yixiang.errors import ValidationFailed

router = Router(tags=["aftercare"])
routers = [("", router)]


class ErrorOut(Schema):
    detail: str
    code: str


class RegionalEventIn(Schema):
    kind: Literal[tuple(RegionalEvent.Kind.values)]  # type: ignore[valid-type]
    title: str = Field(..., min_length=1, max_length=200)
    on: IsoDate
    region_id: int | None = None
    province: str = Field("", max_length=30)
    city: str = Field("", max_length=30)
    description: str = Field("", max_length=5000)


class RegionalEventOut(Schema):
    id: int
    kind: str
    title: str
    on: dt.date
    region_id: int | None
    province: str
    city: str
    description: str
    created_by_id: int
    created_at: dt.datetime
    tasks_created: int


@router.get("/regional-events", response=list[RegionalEventOut], summary="Regional events recorded in your scope")
def list_regional_events(request: HttpRequest):
    return list(selectors.regional_events(request.user).order_by("-on", "-id")[:200])


@router.post(
    "/regional-events",
    response={201: RegionalEventOut, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Record a regional event (leads, directors): care tasks for the customers there",
)
def create_regional_event(request: HttpRequest, payload: RegionalEventIn):
    region = None
    if payload.region_id is not None:
        region = Region.objects.filter(pk=payload.region_id).first()
        if region is None:
            raise ValidationFailed({"region_id": [_("Unknown region.")]})
    event = services.regional_event_record(
        actor=request.user, kind=payload.kind, title=payload.title, on=payload.on, region=region,
        province=payload.province, city=payload.city, description=payload.description,
    )  # fmt: skip
    return Status(201, event)


# --- A campaign's messages: a reply seen elsewhere, a resend -----------------------------------------


class CampaignMessageOut(Schema):
    id: int
    campaign_id: int
    customer_id: int
    channel: str
    status: str
    sent_at: dt.datetime | None
    replied_at: dt.datetime | None
    reply_text: str
    error: str


@router.get(
    "/campaigns/{campaign_id}/messages",
    response={200: list[CampaignMessageOut], 403: ErrorOut, 404: ErrorOut},
    summary="A campaign's messages (the first 2,000)",
)
def list_campaign_messages(request: HttpRequest, campaign_id: int):
    campaign = selectors.campaign_access(request.user, campaign_id)
    visible = visible_customers(request.user, include_pool=False)
    return list(campaign.messages.filter(customer__in=visible).order_by("id")[:2000])


class ReplyIn(Schema):
    text: str = Field(..., min_length=1, max_length=2000)


@router.post(
    "/campaign-messages/{message_id}/reply",
    response={200: CampaignMessageOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Log a reply seen elsewhere (WeChat, a call)",
)
def log_reply(request: HttpRequest, message_id: int, payload: ReplyIn):
    message = selectors.message_access(request.user, message_id)
    return services_campaigns.reply_log_by_hand(actor=request.user, message=message, text=payload.text)


@router.post(
    "/campaign-messages/{message_id}/resend",
    response={200: CampaignMessageOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Put a failed or in-doubt message back in the queue",
)
def resend_message(request: HttpRequest, message_id: int):
    message = selectors.message_access(request.user, message_id)
    return services_campaigns.message_resend(actor=request.user, message=message)
