"""Money and delivery on a customer's contracts: payments, shipments, payout schedule, "payout paid",
late-payout incidents. The handlers call the same services as the customer panel (aftercare/views.py),
so the rules are the same; changes need the customer to be editable (404 outside the caller's scope)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from yixiang.aftercare import selectors, services_contracts
from yixiang.aftercare.api import IncidentOut, PayoutOut
from yixiang.aftercare.models import Contract, PayoutIncident
from yixiang.api_types import Amount, AmountOrZero, IsoDate
from yixiang.customers.scoping import access_customer
from yixiang.errors import ValidationFailed

router = Router(tags=["aftercare: money and delivery"])
routers = [("", router)]

PAGE_MAX = 500


class PaymentIn(Schema):
    paid_on: IsoDate
    amount: Amount
    contract_id: int | None = Field(None, description="The contract paid for (of the same customer), if any.")
    note: str = Field("", max_length=200)
    category: str = Field("", max_length=60, description="Product category (the incentive scheme may count some).")


class PaymentOut(Schema):
    id: int
    customer_id: int
    contract_id: int | None
    paid_on: dt.date
    amount: Decimal
    note: str
    category: str
    recorded_by_id: int | None
    created_at: dt.datetime


class ShipmentIn(Schema):
    shipped_on: IsoDate
    order_no: str = Field("", max_length=60)
    amount: AmountOrZero | None = None


class ShipmentOut(Schema):
    id: int
    customer_id: int
    shipped_on: dt.date
    order_no: str
    amount: Decimal | None
    recorded_by_id: int | None
    created_at: dt.datetime


def _contract_of(customer, contract_id: int | None) -> Contract | None:
    if contract_id is None:
        return None
    # Another customer's contract is refused by the service; an unknown id likewise, as in the panel.
    contract = Contract.objects.filter(pk=contract_id).first()
    if contract is None:
        raise ValidationFailed({"contract_id": [_("Unknown contract.")]})
    return contract


@router.get(
    "/customers/{customer_id}/payments",
    response={200: list[PaymentOut]},
    summary="A customer's payments (oldest first)",
)
def list_payments(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id)
    return list(customer.payments.order_by("paid_on", "id")[:PAGE_MAX])


@router.post(
    "/customers/{customer_id}/payments",
    response={201: PaymentOut},
    summary="Record money received (as the customer panel does)",
)
def create_payment(request: HttpRequest, customer_id: int, payload: PaymentIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    payment = services_contracts.payment_record(
        actor=request.user,
        customer=customer,
        paid_on=payload.paid_on,
        amount=payload.amount,
        contract=_contract_of(customer, payload.contract_id),
        note=payload.note,
        category=payload.category,
    )
    return Status(201, payment)


@router.get(
    "/customers/{customer_id}/shipments",
    response={200: list[ShipmentOut]},
    summary="A customer's shipments (oldest first)",
)
def list_shipments(request: HttpRequest, customer_id: int):
    customer = access_customer(request.user, customer_id)
    return list(customer.shipments.order_by("shipped_on", "id")[:PAGE_MAX])


@router.post(
    "/customers/{customer_id}/shipments",
    response={201: ShipmentOut},
    summary="Record a shipment (a month with one is an active month)",
)
def create_shipment(request: HttpRequest, customer_id: int, payload: ShipmentIn):
    customer = access_customer(request.user, customer_id, for_change=True)
    shipment = services_contracts.shipment_record(
        actor=request.user,
        customer=customer,
        shipped_on=payload.shipped_on,
        order_no=payload.order_no,
        amount=payload.amount,
    )
    return Status(201, shipment)


def _contract_for_change(request: HttpRequest, contract_id: int) -> Contract:
    """A contract of a customer the caller may change; otherwise the same 404 as an absent one."""
    contract = Contract.objects.select_related("customer").filter(pk=contract_id).first()
    if contract is None:
        raise Http404("contract not found")
    access_customer(request.user, contract.customer_id, for_change=True)
    return contract


class PayoutAddIn(Schema):
    due_date: IsoDate
    amount: Amount


@router.post(
    "/contracts/{contract_id}/payouts",
    response={201: PayoutOut},
    summary="Add a payout to a contract's schedule",
)
def add_payout(request: HttpRequest, contract_id: int, payload: PayoutAddIn):
    contract = _contract_for_change(request, contract_id)
    payout = services_contracts.payout_add(
        actor=request.user, contract=contract, due_date=payload.due_date, amount=payload.amount
    )
    return Status(201, payout)


class PayoutPaidIn(Schema):
    paid_on: IsoDate | None = Field(None, description="Default today.")


@router.post(
    "/payouts/{payout_id}/paid",
    response={200: PayoutOut},
    summary='Mark a payout paid ("payout paid"); its open notice task closes',
)
def payout_paid(request: HttpRequest, payout_id: int, payload: PayoutPaidIn):
    payout = selectors.payout_access(request.user, payout_id)
    return services_contracts.payout_mark_paid(actor=request.user, payout=payout, paid_on=payload.paid_on)


class IncidentIn(Schema):
    cause: Literal[tuple(PayoutIncident.Cause.values)]  # type: ignore[valid-type]
    cause_detail: str = Field("", max_length=500)
    resolution: str = Field("", max_length=500)
    resolve: bool = Field(False, description="Close the incident (needs a resolution).")


@router.patch(
    "/payout-incidents/{incident_id}",
    response={200: IncidentOut},
    summary="Record a late payout's cause and, once fixed, its resolution",
)
def update_incident(request: HttpRequest, incident_id: int, payload: IncidentIn):
    incident = selectors.incident_access(request.user, incident_id)
    return services_contracts.incident_update(
        actor=request.user,
        incident=incident,
        cause=payload.cause,
        cause_detail=payload.cause_detail,
        resolution=payload.resolution,
        resolve=payload.resolve,
    )
