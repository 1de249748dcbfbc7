"""Pipeline API: agenda, follow-ups, claim / release / sign / lock, the pool, distribution, review.

Customer routes live on a second router mounted at /customers next to the archive's router;
their paths (/{id}/follow-ups, /{id}/claim …) never overlap the archive's."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from yixiang.accounts.models import User
from yixiang.api_types import Amount, AmountOrZero, IsoDate
from yixiang.customers.models import Customer
from yixiang.customers.scoping import access_customer
from yixiang.errors import ValidationFailed
from yixiang.pipeline import aftersale_method, events, playbook, selectors, services
from yixiang.pipeline import pool as pool_services
from yixiang.pipeline.models import FollowUp, VisitPlan

customer_router = Router(tags=["pipeline"])
router = Router(tags=["pipeline"])

ChannelT = Literal["phone", "visit", "sms", "wechat", "email", "qq", "other"]
GradeT = Literal["A", "B", "C", "D", ""]
ReleaseReasonT = Literal["no_rise", "no_decision_maker", "rep_mistake", "pushed_too_hard", "other"]


class ErrorOut(Schema):
    detail: str
    code: str


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is read as local time (Asia/Shanghai by default)."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


# --- Schemas ------------------------------------------------------------------------------------


class FollowUpIn(Schema):
    at: dt.datetime | None = Field(None, description="When the contact happened; defaults to now; never future")
    channel: ChannelT = "phone"
    duration_minutes: int | None = Field(None, ge=0, le=1440)
    effective: bool = Field(True, description="A real conversation with the customer")
    summary: str = Field("", max_length=5000)
    signals: list[str] = Field([], description="Signal codes from the playbook")
    stage: int | None = Field(None, ge=-1, le=5, description="The stage you judge; omitted keeps the stage")
    grade: GradeT | None = None
    expected_sign_month: IsoDate | None = None
    next_contact_on: IsoDate | None = None
    decision_maker: Literal["", "reached", "missed"] = ""
    visit_plan_id: int | None = None
    aftersale_checks: list[str] = Field(
        [], description="A signed customer's after-sale checklist (codes from GET /method aftersale.checklist)"
    )
    confirm_stage: bool = Field(
        False,
        description="Confirm a raise with no signal ticked and no judging answer in the summary; "
        "without it such a raise is refused (400, code stage_unconfirmed)",
    )


class FollowUpOut(Schema):
    id: int
    customer_id: int
    rep_id: int
    at: dt.datetime
    channel: str
    duration_minutes: int | None
    effective: bool
    summary: str
    signals: list[str]
    stage_before: int
    stage_after: int
    proposed_stage_signals: int | None
    proposed_stage_text: int | None
    text_keywords: list[str]
    grade: str
    expected_sign_month: dt.date | None
    next_contact_on: dt.date | None
    decision_maker: str
    aftersale_checks: list[str]


class ProposalIn(Schema):
    signals: list[str] = []
    text: str = Field("", max_length=5000)


class ProposalOut(Schema):
    from_signals: int | None
    from_text: int | None
    text_keywords: list[str]
    unknown_signals: list[str]


class CustomerStateOut(Schema):
    id: int
    name: str
    owner_id: int | None
    stage: int
    grade: str
    next_due_on: dt.date | None
    last_contact_at: dt.datetime | None
    held_since: dt.datetime | None
    recycle_locked: bool
    signed_at: dt.datetime | None
    version: int


class ReleaseIn(Schema):
    reason: ReleaseReasonT
    note: str = Field("", max_length=2000)


class SignIn(Schema):
    amount: Amount
    signed_on: IsoDate | None = None
    paid_amount: AmountOrZero | None = None
    contract_name: str = Field("", max_length=200)
    contract_number: str = Field("", max_length=60)
    note: str = Field("", max_length=2000)


class SignOut(Schema):
    customer: CustomerStateOut
    contract_id: int
    contract_number: str


class LockIn(Schema):
    locked: bool = True


class HandOverIn(Schema):
    to_user_id: int
    note: str = Field("", max_length=2000)


class VisitPlanIn(Schema):
    at: dt.datetime
    place: str = Field(..., max_length=200)
    purpose: str = Field(..., max_length=300)
    person: str = Field("", max_length=100)
    route: str = Field("", max_length=300)
    materials: str = Field("", max_length=300)
    proposal: str = Field("", max_length=5000)
    appointment_way: Literal["in_person", "through_someone", "public_notice", "letter", "phone"] = "phone"


class VisitPlanOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    rep_id: int
    at: dt.datetime
    place: str
    purpose: str
    person: str
    route: str
    materials: str
    proposal: str
    appointment_way: str
    status: str

    @staticmethod
    def resolve_customer_name(obj: VisitPlan) -> str:
        return obj.customer.name


class NearbyCustomerOut(Schema):
    id: int
    name: str
    address: str


class VisitPlanCreatedOut(VisitPlanOut):
    nearby_signed: list[NearbyCustomerOut] = Field(
        description="Your signed customers in the same city: visit them on the way (顺便拜访, seed 001)"
    )


class TextOut(Schema):
    zh: str
    en: str


class AgendaGuideOut(Schema):
    """What the agenda card shows during the call: the judging questions of the customer's stage
    and the tips to lift it to the next one (the texts GET /method serves)."""

    questions: list[TextOut]
    lift_tips: list[TextOut] = Field(description="How to lift the customer from its stage to next_stage")
    next_stage: int | None


class AgendaItemOut(Schema):
    customer_id: int
    customer_name: str
    stage: int
    stage_label: str
    grade: str
    due_on: dt.date | None
    is_due: bool
    overdue_days: int
    last_contact_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    purpose: str
    suggest_after: str | None
    recycle_on: dt.date | None
    first_contact_due_at: dt.datetime | None
    locked: bool
    url: str
    followup_url: str
    referred: bool = Field(False, description="Brought by a referrer: first in its band")
    last_note: str = Field("", description="The first line of the customer's latest follow-up note")
    guide: AgendaGuideOut | None = Field(None, description="With include=guide: the stage's questions and tips")


class CareItemOut(Schema):
    kind: str
    customer_id: int
    customer_name: str
    title: str
    due_on: dt.date | None = None
    overdue_days: int = 0
    suggestion: str = ""
    url: str = ""


class AgendaBandOut(Schema):
    # Not "BandOut": that name is the reports' band (with a label); OpenAPI names must be unique.
    band: str
    count: int
    target: int
    status: str


class ReleaseProposalOut(Schema):
    customer_id: int
    customer_name: str
    reason: str
    contacts: int
    proposed_at: dt.datetime

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class AgendaOut(Schema):
    date: dt.date
    items: list[AgendaItemOut]
    visits: list[VisitPlanOut]
    care: list[CareItemOut]
    balance: list[AgendaBandOut]
    proposals: list[ReleaseProposalOut]


class PoolCustomerOut(Schema):
    id: int
    name: str
    stage: int
    grade: str
    city: str
    industry: str
    last_contact_at: dt.datetime | None
    pooled_at: dt.datetime | None


class PoolPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PoolCustomerOut]


class PoolParams(Schema):
    q: str = ""
    page: int = Field(1, ge=1, le=1_000_000)  # a bound keeps the offset a database integer
    page_size: int = Field(50, ge=1, le=200)


class ReviewParams(Schema):
    date_from: IsoDate = Field(..., alias="from")
    date_to: IsoDate = Field(..., alias="to")


class MemberReviewOut(Schema):
    user_id: int
    name: str
    team: str
    follow_ups: int
    effective: int
    follow_ups_per_day: float
    effective_per_day: float
    overdue: int
    stages: dict[int, int]
    rises: int
    drops: int
    signed: int
    hot_judgments: int
    hot_right: int
    hot_pending: int
    hot_accuracy: float | None
    judgments: int
    reversed: int
    reversal_share: float | None


class ReviewOut(Schema):
    date_from: dt.date = Field(..., serialization_alias="from")
    date_to: dt.date = Field(..., serialization_alias="to")
    members: list[MemberReviewOut]


class DistributionIn(Schema):
    customer_ids: list[int] = Field(..., min_length=1, max_length=5000)
    method: Literal["region", "round_robin", "by_hand"]
    rep_ids: list[int] = []
    by_hand: dict[int, int] = Field({}, description="customer id → rep id, for method by_hand")
    first_contact_by: dt.datetime | None = Field(None, description="Defaults to now + FIRST_CONTACT_HOURS")
    note: str = Field("", max_length=200)


class AssignmentOut(Schema):
    customer_id: int
    rep_id: int


class DistributionOut(Schema):
    id: int
    method: str
    first_contact_by: dt.datetime
    assigned: list[AssignmentOut]
    unassigned: list[int]


# --- Routes: the customer's pipeline ------------------------------------------------------------


@customer_router.get("/{customer_id}/follow-ups", response=list[FollowUpOut], summary="A customer's follow-ups")
def list_followups(request: HttpRequest, customer_id: int, limit: int = Query(100, ge=1, le=500)):
    customer = access_customer(request.user, customer_id)
    return list(selectors.customer_followups(customer=customer)[:limit])


@customer_router.post(
    "/{customer_id}/follow-ups",
    response={201: FollowUpOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Log a follow-up and the stage you judge",
)
def create_followup(request: HttpRequest, customer_id: int, payload: FollowUpIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    plan = None
    if payload.visit_plan_id is not None:
        plan = VisitPlan.objects.filter(pk=payload.visit_plan_id, customer=customer).first()
        if plan is None:
            raise ValidationFailed({"visit_plan_id": ["unknown visit plan for this customer"]})
    fu = services.followup_log(
        actor=request.user,
        customer=customer,
        stage=payload.stage,
        at=_aware(payload.at),
        channel=payload.channel,
        duration_minutes=payload.duration_minutes,
        effective=payload.effective,
        summary=payload.summary,
        signals=payload.signals,
        grade=payload.grade,
        expected_sign_month=payload.expected_sign_month,
        next_contact_on=payload.next_contact_on,
        decision_maker=payload.decision_maker,
        visit_plan=plan,
        aftersale_checks=payload.aftersale_checks,
        confirm_stage=payload.confirm_stage,
    )
    return Status(201, FollowUp.objects.get(pk=fu.pk))


@customer_router.post(
    "/{customer_id}/claim",
    response={200: CustomerStateOut, 404: ErrorOut, 409: ErrorOut},
    summary="Claim a customer from the public pool",
)
def claim(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id)
    return pool_services.claim_from_pool(actor=request.user, customer=customer)


@customer_router.post(
    "/{customer_id}/release",
    response={200: CustomerStateOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Release a customer to the public pool with a reason",
)
def release(request: HttpRequest, customer_id: int, payload: ReleaseIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    return pool_services.customer_release(
        actor=request.user, customer=customer, reason=payload.reason, note=payload.note
    )


@customer_router.post(
    "/{customer_id}/sign",
    response={200: SignOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Mark signed: record the deal, the customer becomes E class",
)
def sign(request: HttpRequest, customer_id: int, payload: SignIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    contract = events.sign_customer(
        actor=request.user,
        customer=customer,
        amount=payload.amount,
        signed_on=payload.signed_on,
        paid_amount=payload.paid_amount,
        contract_name=payload.contract_name,
        contract_number=payload.contract_number,
        note=payload.note,
    )
    return {
        "customer": Customer.objects.get(pk=customer.pk),
        "contract_id": contract.pk,
        "contract_number": contract.number,
    }


@customer_router.post(
    "/{customer_id}/lock",
    response={200: CustomerStateOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Lock (or unlock with locked=false) a customer against automatic recycling",
)
def lock(request: HttpRequest, customer_id: int, payload: LockIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    return pool_services.customer_set_recycle_lock(actor=request.user, customer=customer, locked=payload.locked)


@customer_router.post(
    "/{customer_id}/hand-over",
    response={200: CustomerStateOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Hand a customer over to another member (leads and directors)",
)
def hand_over(request: HttpRequest, customer_id: int, payload: HandOverIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    # The service says who may hand over (403) and to whom (400).
    target = User.objects.filter(pk=payload.to_user_id, is_active=True).first()
    if target is None:
        raise ValidationFailed({"to_user_id": ["unknown user"]})
    return pool_services.customer_hand_over(actor=request.user, customer=customer, to_user=target, note=payload.note)


@customer_router.post(
    "/{customer_id}/visit-plans",
    response={201: VisitPlanCreatedOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Plan a visit; it shows on the agenda. The answer lists your signed customers nearby",
)
def create_visit_plan(request: HttpRequest, customer_id: int, payload: VisitPlanIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    data = payload.model_dump()
    data["at"] = _aware(data["at"])
    plan = VisitPlan.objects.select_related("customer").get(
        pk=services.visit_plan_create(actor=request.user, customer=customer, **data).pk
    )
    plan.nearby_signed = selectors.nearby_signed_customers(rep=request.user, customer=customer)
    return Status(201, plan)


# --- Routes: agenda, pool, review, distribution -------------------------------------------------


def _agenda_guides() -> dict[int, dict]:
    def both(texts: tuple[str, ...]) -> list[dict[str, str]]:
        return [{"zh": t, "en": playbook.english_of(t)} for t in texts]

    return {
        stage: {"questions": both(g.questions), "lift_tips": both(g.lift_tips), "next_stage": g.next_stage}
        for stage, g in selectors.call_guides().items()
    }


@router.get("/agenda", response=AgendaOut, summary="The day's agenda: overdue and due customers, visits, care")
def get_agenda(
    request: HttpRequest,
    date: IsoDate | None = None,
    include: Literal["guide"] | None = Query(None, description="guide: each item carries its stage's call guide"),
):
    day = date or timezone.localdate()
    a = selectors.agenda(user=request.user, day=day)
    # One query for every item's last note; the guides are the playbook's, per stage, no query.
    notes = selectors.last_notes(i.customer_id for i in a.items)
    guides = _agenda_guides() if include == "guide" else {}
    for i in a.items:
        i.last_note = notes.get(i.customer_id, "")
        i.guide = guides.get(i.stage)
    return {
        "date": day,
        "items": a.items,
        "visits": a.visits,
        "care": a.care,
        "balance": a.balance,
        "proposals": a.proposals,
    }


@router.post("/follow-ups/proposal", response=ProposalOut, summary="The stage the signals and a note suggest")
def propose(request: HttpRequest, payload: ProposalIn):
    return services.propose_stage(signals=payload.signals, text=payload.text)


@router.get("/pool", response=PoolPage, summary="The public pool")
def pool(request: HttpRequest, params: Query[PoolParams]):
    qs = selectors.pool_customers(user=request.user, q=params.q)
    start = (params.page - 1) * params.page_size
    return {
        "count": qs.count(),
        "page": params.page,
        "page_size": params.page_size,
        "items": list(qs[start : start + params.page_size]),
    }


@router.get(
    "/team/review",
    response={200: ReviewOut, 400: ErrorOut},
    by_alias=True,
    summary="Team review: follow-ups, overdue, stages, rises/drops, signings, judgment accuracy",
)
def review(request: HttpRequest, params: Query[ReviewParams]):
    if params.date_to < params.date_from:
        raise ValidationFailed({"to": ["'to' is before 'from'"]})
    if (params.date_to - params.date_from).days > 366:
        raise ValidationFailed({"to": ["at most one year at a time"]})
    members = selectors.team_review(user=request.user, date_from=params.date_from, date_to=params.date_to)
    return {"date_from": params.date_from, "date_to": params.date_to, "members": members}


@router.post(
    "/distributions",
    response={201: DistributionOut, 400: ErrorOut, 403: ErrorOut},
    summary="Distribute a list of leads to reps with a first-contact deadline",
)
def distribute(request: HttpRequest, payload: DistributionIn):
    result = pool_services.distribute_customers(
        actor=request.user,
        customer_ids=payload.customer_ids,
        method=payload.method,
        rep_ids=payload.rep_ids,
        by_hand=payload.by_hand,
        first_contact_by=_aware(payload.first_contact_by),
        note=payload.note,
    )
    d = result.distribution
    return Status(
        201,
        {
            "id": d.pk,
            "method": d.method,
            "first_contact_by": d.first_contact_by,
            "assigned": [{"customer_id": c, "rep_id": r} for c, r in result.assigned.items()],
            "unassigned": result.unassigned,
        },
    )


# --- The method and the lead's recycling confirmations (issue 15) ---------------------------------


class SignalTextOut(TextOut):
    code: str


class MethodStageOut(Schema):
    stage: int
    definition: TextOut
    signals: list[SignalTextOut]
    questions: list[TextOut]
    lift_tips: list[TextOut] = Field(description="How to lift a customer INTO this stage from the one below")
    purpose: TextOut


class CodedTextOut(TextOut):
    code: str


class PitfallOut(Schema):
    code: str
    title: TextOut
    remedy: TextOut


class AftersaleMethodOut(Schema):
    checklist: list[CodedTextOut] = Field(description="Seed 001's after-sale checklist of an E-class follow-up")
    referral_courage: TextOut
    referral_every_contact: TextOut
    referral_pitfalls: list[PitfallOut] = Field(description="Seed 000's four mistakes (误区) of referral asking")


class MethodOut(Schema):
    stages: list[MethodStageOut]
    aftersale: AftersaleMethodOut


@router.get("/method", response=MethodOut, summary="The intent-lifting method: per stage its signals, questions, tips")
def get_method(request: HttpRequest):
    return {"stages": playbook.method_outline(), "aftersale": aftersale_method.aftersale_outline()}


class RecycleProposalOut(Schema):
    customer_id: int
    customer_name: str = Field(alias="customer.name")
    owner_id: int
    owner_name: str = Field(alias="owner.label")
    stage: int
    reason: Literal["overdue", "held_too_long"]
    proposed_at: dt.datetime
    held_since: dt.datetime | None = Field(None, alias="customer.held_since")
    note: str = Field("", description="The lead's note with the decision (empty while open)")


class RecycleDecisionIn(Schema):
    recycle: bool = Field(description="true: to the pool; false: keep it with the rep")
    note: str = Field("", max_length=2000, description="Optional: why (kept on the owner change or the kept proposal)")


@router.get(
    "/recycle-proposals",
    response=list[RecycleProposalOut],
    summary="Stage 3–4 customers a recycling rule would take, waiting for the lead's confirmation",
)
def list_recycle_proposals(request: HttpRequest):
    return pool_services.recycle_proposals_for(request.user)


@customer_router.post(
    "/{customer_id}/recycle-decision",
    response={200: RecycleProposalOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="The lead confirms (recycle=true) or refuses the recycling of a stage 3–4 customer",
)
def decide_recycling(request: HttpRequest, customer_id: int, payload: RecycleDecisionIn):
    customer = access_customer(request.user, customer_id)
    prop = pool_services.recycle_proposal_decide(
        actor=request.user, customer=customer, recycle=payload.recycle, note=payload.note
    )
    prop.customer = customer
    return prop


routers = [("/customers", customer_router), ("", router)]
