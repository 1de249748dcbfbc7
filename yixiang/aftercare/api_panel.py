"""The rest of the customer panel's after-sale actions through the API: gifts, life events, the
loyalty ladder, the value tier set by hand, the referrer type and referral asks. The same services as the panel (aftercare/views.py PANEL_ACTIONS); changes need
the customer to be editable (404 outside the caller's scope)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from yixiang.aftercare import rules, services, services_loyalty
from yixiang.aftercare.models import LifeEvent, LoyaltyLevel, ReferralAsk, ReferrerType
from yixiang.api_types import IsoDate
from yixiang.customers.scoping import access_customer

router = Router(tags=["aftercare: customer panel"])
routers = [("", router)]


Prerequisite = Literal[tuple(code for code, _label in rules.REFERRAL_PREREQUISITES)]  # type: ignore[valid-type]


class GiftIn(Schema):
    item: str = Field(..., min_length=1, max_length=200)
    cost: Decimal = Field(..., ge=0, max_digits=10, decimal_places=2)
    given_on: IsoDate | None = Field(None, description="Default today.")
    occasion: str = Field("", max_length=200)


class GiftOut(Schema):
    id: int
    customer_id: int
    rep_id: int
    given_on: dt.date
    item: str
    cost: Decimal
    occasion: str


@router.post("/customers/{customer_id}/gifts", response={201: GiftOut}, summary="Log a gift")
def create_gift(request: HttpRequest, customer_id: int, payload: GiftIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    gift = services.gift_log(
        actor=request.user, customer=customer, item=payload.item, cost=payload.cost,
        given_on=payload.given_on, occasion=payload.occasion,
    )  # fmt: skip
    return Status(201, gift)


class LifeEventIn(Schema):
    kind: Literal[tuple(LifeEvent.Kind.values)]  # type: ignore[valid-type]
    on: IsoDate
    recurring: bool = Field(False, description="Every year (an anniversary).")
    note: str = Field("", max_length=300)


class LifeEventOut(LifeEventIn):
    id: int
    customer_id: int


@router.post(
    "/customers/{customer_id}/life-events",
    response={201: LifeEventOut},
    summary="Add a life event (it shows in the care calendar)",
)
def create_life_event(request: HttpRequest, customer_id: int, payload: LifeEventIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    event = services.life_event_add(
        actor=request.user, customer=customer, kind=payload.kind, on=payload.on,
        recurring=payload.recurring, note=payload.note,
    )  # fmt: skip
    return Status(201, event)


class CareIn(Schema):
    loyalty_level: Literal[tuple(LoyaltyLevel.values)] | None = None  # type: ignore[valid-type]
    loyalty_note: str = Field("", max_length=300)
    referrer_type: Literal[tuple(ReferrerType.values)] | Literal[""] | None = Field(  # type: ignore[valid-type]
        None, description='"" clears it.'
    )
    value_tier: Literal["A", "B", "C", "D", ""] | None = Field(
        None, description='Set the value tier by hand (needs a reason); "" clears the override.'
    )
    value_tier_reason: str = Field("", max_length=300)


class CareOut(Schema):
    customer_id: int
    loyalty_level: str
    referrer_type: str
    computed_tier: str
    tier_override: str
    tier_override_reason: str
    lapsing_since: dt.date | None


@router.patch(
    "/customers/{customer_id}/care",
    response={200: CareOut},
    summary="Set the loyalty level, the referrer type or the value tier by hand (fields left out stay)",
)
def update_care(request: HttpRequest, customer_id: int, payload: CareIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    with transaction.atomic():  # all or nothing, as one form
        if payload.loyalty_level is not None:
            services_loyalty.loyalty_set(
                actor=request.user, customer=customer, level=payload.loyalty_level, note=payload.loyalty_note
            )
        if payload.referrer_type is not None:
            services_loyalty.referrer_type_set(
                actor=request.user, customer=customer, referrer_type=payload.referrer_type
            )
        if payload.value_tier is not None:
            services_loyalty.tier_override(
                actor=request.user, customer=customer, tier=payload.value_tier, reason=payload.value_tier_reason
            )
    return services.care_of(customer)


class ReferralAskIn(Schema):
    prerequisites: list[Prerequisite] = Field([], description="The prerequisites that held.")  # type: ignore[valid-type]
    outcome: Literal[tuple(ReferralAsk.Outcome.values)]  # type: ignore[valid-type]
    names_given: str = Field("", max_length=300)
    note: str = Field("", max_length=300)


class ReferralAskOut(Schema):
    id: int
    customer_id: int
    rep_id: int
    prerequisites: list[str]
    outcome: str
    names_given: str
    note: str


@router.post(
    "/customers/{customer_id}/referral-asks",
    response={201: ReferralAskOut},
    summary="Log a referral ask (or the decision not to ask yet)",
)
def create_referral_ask(request: HttpRequest, customer_id: int, payload: ReferralAskIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    ask = services_loyalty.referral_ask_log(
        actor=request.user, customer=customer, prerequisites=payload.prerequisites, outcome=payload.outcome,
        names_given=payload.names_given, note=payload.note,
    )  # fmt: skip
    return Status(201, ask)
