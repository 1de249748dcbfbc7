"""Webhooks API: endpoints an administrator registers, their delivery log and a test event.
Administrators only (others get 403); every write audited (docs/API.md "Webhooks")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from yixiang.accounts import webhooks
from yixiang.accounts.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from yixiang.accounts.services_org import require_admin

router = Router(tags=["webhooks"])
routers = [("/webhooks", router)]

EventName = Literal[tuple(WebhookEvent.values)]  # type: ignore[valid-type]
DeliveryStatus = Literal[tuple(WebhookDelivery.Status.values)]  # type: ignore[valid-type]


class ErrorOut(Schema):
    detail: str
    code: str


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class EndpointOut(Schema):
    id: int
    url: str
    events: list[str]
    is_active: bool
    description: str
    disabled_reason: str = Field(description="Why the system switched it off (a 410 Gone answer), if it did.")
    created_at: dt.datetime
    updated_at: dt.datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="Shown here once: sign-checking key for X-Yixiang-Signature.")


class EndpointIn(Schema):
    url: str = Field(..., min_length=1, max_length=500, description="http:// or https:// address")
    events: list[EventName] = Field(..., min_length=1, max_length=20)
    secret: str = Field("", max_length=200, description="At least 16 characters; empty: a random one is made.")
    is_active: bool = True
    description: str = Field("", max_length=200)


class EndpointPatch(Schema):
    url: str | None = Field(None, min_length=1, max_length=500)
    events: list[EventName] | None = Field(None, min_length=1, max_length=20)
    secret: str | None = Field(None, min_length=16, max_length=200)
    is_active: bool | None = None
    description: str | None = Field(None, max_length=200)


class DeliveryOut(Schema):
    id: uuid.UUID = Field(description="The delivery id: the body's id and X-Yixiang-Delivery.")
    event: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    error: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None

    @staticmethod
    def resolve_id(obj: WebhookDelivery) -> uuid.UUID:
        return obj.uuid


class DeliveryPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DeliveryOut]


class DeliveryParams(Schema):
    status: DeliveryStatus | None = None
    page: int = Field(1, ge=1, le=1_000_000)  # a bound keeps the offset a database integer
    page_size: int = Field(50, ge=1, le=200)


def _endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    require_admin(request.user)
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise Http404
    return endpoint


@router.get("", response={200: list[EndpointOut], **ERRORS}, summary="Webhooks (administrators)")
def list_endpoints(request: HttpRequest):
    require_admin(request.user)
    return list(WebhookEndpoint.objects.order_by("pk")[:1000])


@router.post("", response={201: EndpointCreatedOut, **ERRORS}, summary="Register a webhook URL")
def create_endpoint(request: HttpRequest, payload: EndpointIn):
    endpoint = webhooks.endpoint_create(
        actor=request.user, url=payload.url, events=payload.events, secret=payload.secret,
        is_active=payload.is_active, description=payload.description,
    )  # fmt: skip
    return Status(201, endpoint)


@router.get("/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="One webhook")
def get_endpoint(request: HttpRequest, endpoint_id: int):
    return _endpoint(request, endpoint_id)


@router.patch("/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="Change a webhook")
def update_endpoint(request: HttpRequest, endpoint_id: int, payload: EndpointPatch):
    endpoint = _endpoint(request, endpoint_id)
    return webhooks.endpoint_update(
        actor=request.user, endpoint=endpoint, changes=payload.model_dump(exclude_unset=True)
    )


@router.delete("/{endpoint_id}", response={204: None, **ERRORS}, summary="Remove a webhook and its delivery log")
def delete_endpoint(request: HttpRequest, endpoint_id: int):
    webhooks.endpoint_delete(actor=request.user, endpoint=_endpoint(request, endpoint_id))
    return Status(204, None)


@router.get(
    "/{endpoint_id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    summary="A webhook's delivery log, newest first",
)
def list_deliveries(request: HttpRequest, endpoint_id: int, params: Query[DeliveryParams]):
    qs = _endpoint(request, endpoint_id).deliveries.order_by("-pk")
    if params.status:
        qs = qs.filter(status=params.status)
    start = (params.page - 1) * params.page_size
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "items": list(qs[start : start + params.page_size]),
    }


@router.post(
    "/{endpoint_id}/test",
    response={202: DeliveryOut, **ERRORS},
    summary="Send a webhook.test event to this webhook (queued; see its delivery log)",
)
def send_test(request: HttpRequest, endpoint_id: int):
    return Status(202, webhooks.endpoint_send_test(actor=request.user, endpoint=_endpoint(request, endpoint_id)))
