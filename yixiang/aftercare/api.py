"""After-sale API: contracts, care tasks, campaigns, referral trees. Mounted at the API root with
full paths so /customers/{id}/contracts sits beside the customers router without colliding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from yixiang.aftercare import selectors, services_campaigns, services_contracts
from yixiang.aftercare.models import Campaign, CareTask, Contract
from yixiang.api_types import Amount, IsoDate
from yixiang.customers.scoping import access_customer
from yixiang.errors import ValidationFailed

router = Router(tags=["aftercare"])
routers = [("", router)]

MAX_CARE_RANGE_DAYS = 366


class ErrorOut(Schema):
    detail: str
    code: str


class PayoutIn(Schema):
    due_date: IsoDate
    amount: Amount


class ContractIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    number: str = Field(..., min_length=1, max_length=60)
    start_date: IsoDate
    end_date: IsoDate | None = None
    amount: Amount
    payout_card: str = Field("", max_length=40, description="Stored encrypted; only the masked form is returned.")
    payouts: list[PayoutIn] = []


class IncidentOut(Schema):
    id: int
    cause: str
    cause_detail: str
    resolution: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None


class PayoutOut(Schema):
    id: int
    due_date: dt.date
    amount: Decimal
    status: str
    paid_on: dt.date | None
    incident: IncidentOut | None = None

    @staticmethod
    def resolve_incident(obj):
        return getattr(obj, "incident", None)


class ContractOut(Schema):
    id: int
    customer_id: int
    name: str
    number: str
    start_date: dt.date
    end_date: dt.date | None
    amount: Decimal
    status: str
    payout_card_masked: str
    payouts: list[PayoutOut]

    @staticmethod
    def resolve_payouts(obj: Contract):
        return list(obj.payouts.all())


@router.get(
    "/customers/{customer_id}/contracts", response=list[ContractOut], summary="A customer's contracts and payouts"
)
def list_contracts(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id)
    return list(selectors.customer_contracts(customer))


@router.post(
    "/customers/{customer_id}/contracts",
    response={201: ContractOut, 400: ErrorOut, 409: ErrorOut},
    summary="Add a contract with its payout schedule",
)
def create_contract(request: HttpRequest, customer_id: int, payload: ContractIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    contract = services_contracts.contract_create(
        actor=request.user,
        customer=customer,
        name=payload.name,
        number=payload.number,
        start_date=payload.start_date,
        end_date=payload.end_date,
        amount=payload.amount,
        payout_card=payload.payout_card,
        payouts=[(p.due_date, p.amount) for p in payload.payouts],
    )
    return Status(201, selectors.customer_contracts(customer).get(pk=contract.pk))


class CareTaskOut(Schema):
    id: int
    kind: str
    customer_id: int
    customer_name: str
    rep_id: int
    rep_name: str
    due_on: dt.date
    occasion_on: dt.date | None
    title: str
    suggestion: str
    done_at: dt.datetime | None

    @staticmethod
    def resolve_customer_name(obj: CareTask) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_rep_name(obj: CareTask) -> str:
        return obj.rep.label


class CareParams(Schema):
    from_: IsoDate | None = Field(None, alias="from", description="First due date (default today)")
    to: IsoDate | None = Field(None, description="Last due date (default from + 7 days)")
    kind: Literal[tuple(CareTask.Kind.values)] | Literal[""] = ""  # type: ignore[valid-type]
    include_done: bool = False
    mine: bool = Field(False, description="Only my own tasks (leads and directors see their staff's too)")


@router.get("/care", response={200: list[CareTaskOut], 400: ErrorOut}, summary="Care tasks in scope, by due date")
def list_care(request: HttpRequest, params: Query[CareParams]):
    start = params.from_ or timezone.localdate()
    end = params.to or start + dt.timedelta(days=7)
    if end < start:
        raise ValidationFailed({"to": ["'to' is before 'from'"]})
    if (end - start).days > MAX_CARE_RANGE_DAYS:
        raise ValidationFailed({"to": [f"at most {MAX_CARE_RANGE_DAYS} days at a time"]})
    return list(
        selectors.care_tasks_between(
            request.user, start, end, include_done=params.include_done, kind=params.kind, mine=params.mine
        )[:2000]
    )


class SegmentIn(Schema):
    tiers: list[Literal["A", "B", "C", "D"]] = []
    stages: list[int] = []
    tags: list[str] = []
    region_ids: list[int] = []
    provinces: list[str] = []
    cities: list[str] = []
    signed_only: bool = False
    lapsing_only: bool = False


class CampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    template: str = Field(
        ...,
        min_length=1,
        max_length=2000,
        description="Placeholders: {name}, {rep}, {rep_phone}, {company}, {tier}, {city}",
    )
    subject: str = Field("", max_length=200)
    segment: SegmentIn = SegmentIn()
    reply_window_hours: int | None = Field(None, ge=1, le=336)
    launch: bool = Field(False, description="Launch right away (messages are sent by the worker)")


class CampaignOut(Schema):
    id: int
    name: str
    template: str
    subject: str
    segment: dict
    status: str
    reply_window_hours: int
    created_by_id: int
    created_at: dt.datetime
    launched_at: dt.datetime | None
    messages: int
    sent: int
    replied: int
    cost: Decimal

    @staticmethod
    def resolve_messages(obj) -> int:
        return getattr(obj, "total_n", 0)

    @staticmethod
    def resolve_sent(obj) -> int:
        return getattr(obj, "sent_n", 0)

    @staticmethod
    def resolve_replied(obj) -> int:
        return getattr(obj, "replied_n", 0)

    @staticmethod
    def resolve_cost(obj) -> Decimal:
        return getattr(obj, "cost_sum", None) or Decimal(0)


@router.get("/campaigns", response=list[CampaignOut], summary="Campaigns written in your scope")
def list_campaigns(request: HttpRequest):
    return list(selectors.campaigns(request.user)[:500])


@router.post(
    "/campaigns", response={201: CampaignOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut}, summary="Create a campaign"
)
def create_campaign(request: HttpRequest, payload: CampaignIn):
    campaign = services_campaigns.campaign_create(
        actor=request.user,
        name=payload.name,
        template=payload.template,
        subject=payload.subject,
        segment=payload.segment.model_dump(),
        reply_window_hours=payload.reply_window_hours,
    )
    if payload.launch:
        services_campaigns.campaign_launch(actor=request.user, campaign=campaign)
    return Status(201, selectors.campaigns(request.user).get(pk=campaign.pk))


@router.get("/campaigns/{campaign_id}", response=CampaignOut, summary="One campaign")
def get_campaign(request: HttpRequest, campaign_id: int):
    selectors.campaign_access(request.user, campaign_id)
    return selectors.campaigns(request.user).get(pk=campaign_id)


@router.post(
    "/campaigns/{campaign_id}/launch",
    response={200: CampaignOut, 403: ErrorOut, 409: ErrorOut},
    summary="Launch a draft campaign",
)
def launch_campaign(request: HttpRequest, campaign_id: int):
    campaign: Campaign = selectors.campaign_access(request.user, campaign_id)
    services_campaigns.campaign_launch(actor=request.user, campaign=campaign)
    return selectors.campaigns(request.user).get(pk=campaign_id)


class ReferralNode(Schema):
    id: int | None
    name: str
    visible: bool
    stage: int | None
    signed: bool
    children: list[ReferralNode] = []


ReferralNode.model_rebuild()


class ReferralTreeOut(ReferralNode):
    referred_count: int
    signed_count: int
    conversion_percent: int


@router.get(
    "/customers/{customer_id}/referrals",
    response=ReferralTreeOut,
    summary="Whom the customer referred (a tree) and its conversion",
)
def referral_tree(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id)
    return selectors.referral_tree(request.user, customer)
