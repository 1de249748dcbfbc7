"""Contracts and money of the after-sale part: signing's deal, contracts, payouts, payments,
shipments, and the payout and renewal reminders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts import webhooks
from yixiang.accounts.models import AuditAction, User, WebhookEvent
from yixiang.accounts.services import audit
from yixiang.aftercare import rules
from yixiang.aftercare.conf import conf
from yixiang.aftercare.models import (
    CareTask,
    Contract,
    Payment,
    Payout,
    PayoutIncident,
    Shipment,
)
from yixiang.aftercare.services import _money, _task, _today, tasks_create
from yixiang.customers.models import Customer
from yixiang.errors import Conflict, ValidationFailed
from yixiang.formatting import format_amount
from yixiang.pipeline import rules as pipeline_rules
from yixiang.pipeline.services import customer_mark_signed

# --------------------------------------------------------------------------- contracts and payouts


def _clean_card(card: str) -> str:
    digits = "".join((card or "").split())
    if digits and (not digits.isdigit() or not 12 <= len(digits) <= 19):
        raise ValidationFailed({"payout_card": [_("A bank card number has 12 to 19 digits.")]})
    return digits


@transaction.atomic
def contract_create(
    *,
    actor: User,
    customer: Customer,
    name: str,
    number: str,
    start_date: dt.date,
    amount: Any,
    end_date: dt.date | None = None,
    payout_card: str = "",
    payouts: Iterable[tuple[dt.date, Any]] = (),
    signed_by: User | None = None,
    generate_number: bool = False,
) -> Contract:
    """A contract (project) of a customer with its payout schedule. ``customer`` must be editable.

    ``generate_number``: a blank number becomes ``HT<start date>-<customer id>`` (signing does this;
    the contract form asks for the number). ``signed_by`` defaults to the actor."""
    name, number = (name or "").strip(), (number or "").strip()
    if not number and generate_number and start_date:
        number = _contract_number(start_date, customer)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("The project name is required.")]
    if not number:
        errors["number"] = [_("The contract number is required.")]
    if end_date and start_date and end_date < start_date:
        errors["end_date"] = [_("The contract cannot end before it starts.")]
    if errors:
        raise ValidationFailed(errors)
    total = _money(amount, "amount")
    card = _clean_card(payout_card)
    schedule = [(d, _money(a, "payouts")) for d, a in payouts]
    _check_contract_plausible(start_date, end_date, total, schedule)
    if Contract.objects.filter(number=number).exists():
        raise Conflict(_("Contract number %(no)s already exists.") % {"no": number}, field="number")
    try:
        with transaction.atomic():
            contract = Contract.objects.create(
                customer=customer,
                name=name,
                number=number,
                start_date=start_date,
                end_date=end_date,
                amount=total,
                payout_card=card,
                signed_by=signed_by or actor,
            )
    except IntegrityError:
        raise Conflict(_("Contract number %(no)s already exists.") % {"no": number}, field="number") from None
    Payout.objects.bulk_create([Payout(contract=contract, due_date=d, amount=a) for d, a in schedule])
    # Money decides incentives: every money write leaves an audit row.
    audit(actor, AuditAction.CONTRACT_CREATE, target=contract, customer=customer.pk, amount=str(total))
    return contract


_CONTRACT_PROBLEMS = {
    "start_too_early": lambda: _("A contract starts on %(date)s or later.") % {"date": rules.CONTRACT_EARLIEST_START},
    "start_too_late": lambda: (
        _("A contract starts at most %(n)s years from today.") % {"n": rules.CONTRACT_START_MAX_YEARS_AHEAD}
    ),
    "end_before_start": lambda: _("The contract cannot end before it starts."),
    "end_too_late": lambda: _("A contract runs at most %(n)s years.") % {"n": rules.CONTRACT_MAX_YEARS},
    "too_many_payouts": lambda: _("A contract has at most %(n)s payouts.") % {"n": rules.CONTRACT_MAX_PAYOUTS},
    "payout_out_of_span": lambda: (
        _("Each payout falls between %(start)s and %(n)s years after the contract start.")
        % {"start": rules.CONTRACT_EARLIEST_START, "n": rules.CONTRACT_MAX_YEARS}
    ),
    "payouts_above_amount": lambda: _("The payouts add up to more than the contract amount."),
}


def _check_contract_plausible(
    start: dt.date, end: dt.date | None, amount: Decimal, payouts: Sequence[tuple[dt.date, Decimal]]
) -> None:
    problems = rules.contract_problems(start=start, end=end, amount=amount, payouts=payouts, today=timezone.localdate())
    if problems:
        raise ValidationFailed({field: [_CONTRACT_PROBLEMS[code]()] for field, code in problems.items()})


@transaction.atomic
def payout_add(*, actor: User, contract: Contract, due_date: dt.date, amount: Any) -> Payout:
    """One more payout on a contract's schedule, within the contract's span and amount."""
    money = _money(amount, "amount")
    schedule = [*contract.payouts.values_list("due_date", "amount"), (due_date, money)]
    _check_contract_plausible(contract.start_date, contract.end_date, contract.amount, schedule)
    return Payout.objects.create(contract=contract, due_date=due_date, amount=money)


@transaction.atomic
def payout_mark_paid(*, actor: User, payout: Payout, paid_on: dt.date | None = None) -> Payout:
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    payout.status = Payout.Status.PAID
    payout.paid_on = paid_on or _today()
    payout.save(update_fields=["status", "paid_on"])
    audit(actor, AuditAction.PAYOUT_PAID, target=payout, amount=str(payout.amount), paid_on=payout.paid_on.isoformat())
    # The notice is moot once the money is there.
    CareTask.objects.filter(source_key=f"payout-notice:{payout.pk}", done_at__isnull=True).update(
        done_at=timezone.now(), done_by=actor, outcome=_("Payout paid")
    )
    return payout


@transaction.atomic
def incident_update(
    *,
    actor: User,
    incident: PayoutIncident,
    cause: str,
    cause_detail: str = "",
    resolution: str = "",
    resolve: bool = False,
) -> PayoutIncident:
    """Record the cause of a late payout and, once fixed, how it was resolved."""
    if cause not in PayoutIncident.Cause.values:
        raise ValidationFailed({"cause": [_("Choose a cause.")]})
    if resolve and not resolution.strip():
        raise ValidationFailed({"resolution": [_("Say how the incident was resolved.")]})
    incident.cause = cause
    incident.cause_detail = cause_detail.strip()
    incident.resolution = resolution.strip()
    if resolve and incident.resolved_at is None:
        incident.resolved_at = timezone.now()
        incident.resolved_by = actor
        CareTask.objects.filter(source_key=f"payout-late:{incident.payout_id}", done_at__isnull=True).update(
            done_at=timezone.now(), done_by=actor, outcome=incident.resolution[:300]
        )
    incident.save()
    audit(actor, AuditAction.INCIDENT_UPDATE, target=incident, cause=cause, resolved=incident.resolved_at is not None)
    return incident


@transaction.atomic
def payment_record(
    *,
    actor: User,
    customer: Customer,
    paid_on: dt.date,
    amount: Any,
    contract: Contract | None = None,
    note: str = "",
    category: str = "",
) -> Payment:
    """Record money received; ``category`` is the product category (the incentive scheme may count
    only some categories)."""
    if contract is not None and contract.customer_id != customer.pk:
        raise ValidationFailed({"contract": [_("This contract belongs to another customer.")]})
    payment = Payment.objects.create(
        customer=customer, contract=contract, paid_on=paid_on, amount=_money(amount, "amount"), note=note.strip()[:200],
        category=category.strip()[:60], recorded_by=actor,
    )  # fmt: skip
    audit(actor, AuditAction.PAYMENT_RECORD, target=payment, customer=customer.pk, amount=str(payment.amount))
    return payment


@transaction.atomic
def shipment_record(
    *, actor: User, customer: Customer, shipped_on: dt.date, order_no: str = "", amount: Any = None
) -> Shipment:
    value = _money(amount, "amount", allow_zero=True) if amount not in (None, "") else None
    shipment = Shipment.objects.create(
        customer=customer, shipped_on=shipped_on, order_no=order_no.strip()[:60], amount=value, recorded_by=actor
    )
    audit(actor, AuditAction.SHIPMENT_RECORD, target=shipment, customer=customer.pk, amount=str(value or ""))
    return shipment


def payout_reminders_run(*, today: dt.date | None = None) -> dict[str, int]:
    """Payout N days ahead → a task to tell the customer; payout past due → an incident and a task."""
    today = today or _today()
    notice_days = conf("PAYOUT_NOTICE_DAYS")
    grace = conf("PAYOUT_LATE_GRACE_DAYS")
    base = Payout.objects.select_related("contract__customer").filter(
        contract__status=Contract.Status.ACTIVE,
        contract__customer__owner__isnull=False,
        contract__customer__deleted_at__isnull=True,
    )
    rows = []
    first, last = rules.payout_notice_window(today, notice_days)
    for p in base.filter(status=Payout.Status.SCHEDULED, due_date__gte=first, due_date__lte=last):
        customer = p.contract.customer
        rows.append(
            _task(
                CareTask.Kind.PAYOUT_NOTICE, customer, customer.owner_id,
                due_on=max(rules.payout_notice_on(p.due_date, notice_days), today), occasion_on=p.due_date,
                title=_("Tell %(name)s: payout of %(amount)s yuan on %(date)s")
                % {"name": customer.name, "amount": format_amount(p.amount), "date": p.due_date.isoformat()},
                suggestion=_("%(name)s, a reminder: the payout of %(amount)s yuan for %(project)s is due on %(date)s "
                             "to your card ending %(card)s. I will keep an eye on it for you.")
                % {"name": customer.name, "amount": format_amount(p.amount), "project": p.contract.name,
                   "date": p.due_date.isoformat(), "card": (p.contract.payout_card or "")[-4:]},
                key=f"payout-notice:{p.pk}",
            )
        )  # fmt: skip
    notices = tasks_create(rows)
    late_rows, incidents = [], 0
    cutoff = today - dt.timedelta(days=grace)
    for p in base.filter(status=Payout.Status.SCHEDULED, due_date__lt=cutoff):
        if not rules.payout_is_late(p.due_date, today, paid=False, grace_days=grace):
            continue
        customer = p.contract.customer
        with transaction.atomic():
            turned_late = Payout.objects.filter(pk=p.pk, status=Payout.Status.SCHEDULED).update(
                status=Payout.Status.LATE
            )
            _incident, created = PayoutIncident.objects.get_or_create(payout=p)
            incidents += int(created)
            if turned_late:  # once per payout, whichever run (or worker) marked it late
                webhooks.emit(WebhookEvent.PAYOUT_OVERDUE, _payout_overdue_data(p, today))
        late_rows.append(
            _task(
                CareTask.Kind.PAYOUT_LATE, customer, customer.owner_id, due_on=today, occasion_on=p.due_date,
                title=_("Payout late for %(name)s: %(amount)s yuan due %(date)s")
                % {"name": customer.name, "amount": format_amount(p.amount), "date": p.due_date.isoformat()},
                suggestion=_("Find the cause today (wrong card number? bank delay?), tell %(name)s what happened and "
                             "when the money will arrive; neither shirk nor take the blame. Record cause and resolution.")
                % {"name": customer.name},
                key=f"payout-late:{p.pk}",
            )
        )  # fmt: skip
    return {"notices": notices, "late": tasks_create(late_rows), "incidents": incidents}


def _payout_overdue_data(p: Payout, today: dt.date) -> dict:
    customer = p.contract.customer
    return {
        "payout_id": p.pk, "contract_id": p.contract_id, "contract": p.contract.name, "amount": p.amount,
        "due_date": p.due_date, "days_late": (today - p.due_date).days,
        "customer": {"id": customer.pk, "name": customer.name, "owner_id": customer.owner_id},
    }  # fmt: skip


def renewal_reminders_run(*, today: dt.date | None = None) -> int:
    """One month (N days) before a contract ends: a renewal or new-project talk."""
    today = today or _today()
    days = conf("RENEWAL_NOTICE_DAYS")
    rows = []
    first, last = rules.renewal_window(today, days)
    qs = Contract.objects.select_related("customer").filter(
        status=Contract.Status.ACTIVE,
        end_date__gte=first,
        end_date__lte=last,
        customer__owner__isnull=False,
        customer__deleted_at__isnull=True,
    )
    for c in qs:
        rows.append(
            _task(
                CareTask.Kind.RENEWAL, c.customer, c.customer.owner_id,
                due_on=max(rules.renewal_notice_on(c.end_date, days), today), occasion_on=c.end_date,
                title=_("Renewal: %(project)s of %(name)s ends on %(date)s")
                % {"project": c.name, "name": c.customer.name, "date": c.end_date.isoformat()},
                suggestion=_("%(name)s, your project %(project)s ends on %(date)s. Shall we meet to look at the "
                             "results and talk about renewing or a new project?")
                % {"name": c.customer.name, "project": c.name, "date": c.end_date.isoformat()},
                key=f"renewal:{c.pk}:{c.end_date.isoformat()}",
            )
        )  # fmt: skip
    return tasks_create(rows)


# --------------------------------------------------------------------------- signing


def _decimal(value: Any, field_name: str, *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed({field_name: [_("This amount is required.")]})
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed({field_name: [_("Enter an amount in yuan.")]}) from None
    if amount < 0 or amount >= Decimal("1e12"):
        raise ValidationFailed({field_name: [_("Enter an amount in yuan.")]})
    return amount.quantize(Decimal("0.01"))


def _contract_number(signed_on: dt.date, customer: Customer) -> str:
    base = f"HT{signed_on:%Y%m%d}-{customer.pk}"
    taken = set(Contract.objects.filter(number__startswith=base).values_list("number", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@transaction.atomic
def customer_sign(
    *,
    actor: User,
    customer: Customer,
    amount: Any,
    signed_on: dt.date | None = None,
    paid_amount: Any = None,
    contract_name: str = "",
    contract_number: str = "",
    note: str = "",
) -> Contract:
    """Mark the customer signed: record the deal (contract, and the payment if money came in) and
    make it an E-class customer (``pipeline.services.customer_mark_signed``, which announces the
    signing on commit). The one signing path for the pipeline panel and the API."""
    today = timezone.localdate()
    signed_on = signed_on or today
    deal = _decimal(amount, "amount", required=True)
    paid = _decimal(paid_amount, "paid_amount", required=False)
    errors: dict[str, list[str]] = {}
    if deal is not None and deal <= 0:
        errors["amount"] = [_("The deal amount must be more than zero.")]
    problem = pipeline_rules.signing_date_problem(signed_on, today)
    if problem == "future":
        errors["signed_on"] = [_("The signing date cannot be in the future.")]
    elif problem == "too_old":
        errors["signed_on"] = [
            _("The signing date is %(date)s or later.") % {"date": pipeline_rules.EARLIEST_BUSINESS_DATE.isoformat()}
        ]
    if len(contract_number) > 60 or len(contract_name) > 200:
        errors["contract_number"] = [_("The contract number or name is too long.")]
    if errors:
        raise ValidationFailed(errors)
    current = customer_mark_signed(actor=actor, customer=customer, signed_on=signed_on, note=note)
    contract = contract_create(
        actor=actor,
        customer=current,
        name=contract_name.strip() or _("%(name)s contract") % {"name": current.name},
        number=contract_number,
        start_date=signed_on,
        amount=deal,
        signed_by=current.owner,
        generate_number=True,
    )
    if paid:
        payment_record(actor=actor, customer=current, contract=contract, paid_on=signed_on, amount=paid, note=note)
    return contract
