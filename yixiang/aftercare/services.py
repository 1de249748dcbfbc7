"""Writes of the after-sale part. Views, API, Huey tasks and tests all come through here.

Generators (reminders, care calendar, scans) are idempotent: every care task has a unique
``source_key`` naming its occasion, so running a generator twice creates nothing new."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import AuditEvent, Region, Role, User
from yixiang.accounts.scoping import editable_customers, visible_customers
from yixiang.aftercare import rules
from yixiang.aftercare.care_words import yearly_day_title, yearly_day_wish
from yixiang.aftercare.conf import conf
from yixiang.aftercare.messaging import (
    Adapter,
    PermanentFailure,
    TemporaryFailure,
    default_adapters,
    robot_ready,
)
from yixiang.aftercare.models import (
    Campaign,
    CareTask,
    Contract,
    CustomerCare,
    Gift,
    InboundReply,
    LifeEvent,
    LoyaltyChange,
    LoyaltyLevel,
    Message,
    Payment,
    Payout,
    PayoutIncident,
    ReferralAsk,
    ReferralReward,
    ReferrerType,
    RegionalEvent,
    Shipment,
    TierChange,
)
from yixiang.customers.models import Customer, Stage, Tag, ValueTier
from yixiang.errors import Conflict, DomainError, ValidationFailed
from yixiang.web.formatting import format_amount

log = logging.getLogger(__name__)

SIGNED = Stage.SIGNED


def _today() -> dt.date:
    return timezone.localdate()


def _money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed({field: [_("Enter an amount in yuan.")]}) from None
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed({field: [_("The amount must be greater than zero.")]})
    return amount


def care_of(customer: Customer) -> CustomerCare:
    """The customer's after-sale row, created on first use."""
    care, _created = CustomerCare.objects.get_or_create(customer=customer)
    return care


# --------------------------------------------------------------------------- care tasks


def tasks_create(rows: Sequence[CareTask]) -> int:
    """Create the tasks whose source key is new; returns how many were created.

    ``ignore_conflicts`` makes a concurrent generator harmless: the unique key decides."""
    if not rows:
        return 0
    keys = [r.source_key for r in rows]
    existing = set(CareTask.objects.filter(source_key__in=keys).values_list("source_key", flat=True))
    fresh = [r for r in rows if r.source_key not in existing]
    CareTask.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=500)
    return len(fresh)


def _task(
    kind: str,
    customer: Customer,
    rep: User | int,
    *,
    due_on: dt.date,
    title: str,
    suggestion: str,
    key: str,
    occasion_on: dt.date | None = None,
) -> CareTask:
    rep_id = rep if isinstance(rep, int) else rep.pk
    return CareTask(
        kind=kind,
        customer=customer,
        rep_id=rep_id,
        due_on=due_on,
        occasion_on=occasion_on,
        title=title[:200],
        suggestion=suggestion,
        source_key=key[:120],
    )


@transaction.atomic
def care_task_done(*, actor: User, task: CareTask, outcome: str = "") -> CareTask:
    """Tick a care task off. The caller found it through the actor's scope."""
    updated = CareTask.objects.filter(pk=task.pk, done_at__isnull=True).update(
        done_at=timezone.now(), done_by=actor, outcome=outcome.strip()[:300]
    )
    task.refresh_from_db()
    if not updated and not task.done_at:
        raise DomainError(_("This task could not be closed."))
    return task


@transaction.atomic
def care_task_reopen(*, actor: User, task: CareTask) -> CareTask:
    CareTask.objects.filter(pk=task.pk).update(done_at=None, done_by=None)
    task.refresh_from_db()
    return task


def care_tasks_follow_owner() -> int:
    """Open tasks move with the customer when it changes hands (hand-over, recycling)."""
    moved = 0
    stale = (
        CareTask.objects.filter(done_at__isnull=True, customer__owner__isnull=False)
        .exclude(rep_id=F("customer__owner_id"))
        .values_list("pk", "customer__owner_id")
    )
    by_owner: dict[int, list[int]] = {}
    for pk, owner_id in stale:
        by_owner.setdefault(owner_id, []).append(pk)
    for owner_id, pks in by_owner.items():
        moved += CareTask.objects.filter(pk__in=pks, done_at__isnull=True).update(rep_id=owner_id)
    return moved


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
) -> Contract:
    """A contract (project) of a customer with its payout schedule. ``customer`` must be editable."""
    name, number = (name or "").strip(), (number or "").strip()
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
                signed_by=actor,
            )
    except IntegrityError:
        raise Conflict(_("Contract number %(no)s already exists.") % {"no": number}, field="number") from None
    Payout.objects.bulk_create([Payout(contract=contract, due_date=d, amount=a) for d, a in schedule])
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
    return incident


def contract_card_unmask(*, actor: User, contract: Contract) -> str:
    if not actor.may_unmask:
        raise DomainError(_("You do not have permission to view full bank card and ID numbers."), code="forbidden")
    AuditEvent.objects.create(actor=actor, action="contract.unmask", target_type="contract", target_id=str(contract.pk))
    return contract.payout_card or ""


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
    return Payment.objects.create(
        customer=customer, contract=contract, paid_on=paid_on, amount=_money(amount, "amount"), note=note.strip()[:200],
        category=category.strip()[:60], recorded_by=actor,
    )  # fmt: skip


@transaction.atomic
def shipment_record(
    *, actor: User, customer: Customer, shipped_on: dt.date, order_no: str = "", amount: Any = None
) -> Shipment:
    value = _money(amount, "amount", allow_zero=True) if amount not in (None, "") else None
    return Shipment.objects.create(
        customer=customer, shipped_on=shipped_on, order_no=order_no.strip()[:60], amount=value, recorded_by=actor
    )


def _owned(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    return qs.filter(owner__isnull=False, deleted_at__isnull=True)


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
    for p in base.filter(
        status=Payout.Status.SCHEDULED, due_date__gte=today, due_date__lte=today + dt.timedelta(days=notice_days)
    ):
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
            Payout.objects.filter(pk=p.pk, status=Payout.Status.SCHEDULED).update(status=Payout.Status.LATE)
            _incident, created = PayoutIncident.objects.get_or_create(payout=p)
            incidents += int(created)
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


def renewal_reminders_run(*, today: dt.date | None = None) -> int:
    """One month (N days) before a contract ends: a renewal or new-project talk."""
    today = today or _today()
    days = conf("RENEWAL_NOTICE_DAYS")
    rows = []
    qs = Contract.objects.select_related("customer").filter(
        status=Contract.Status.ACTIVE,
        end_date__gte=today,
        end_date__lte=today + dt.timedelta(days=days),
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


# --------------------------------------------------------------------------- care calendar


def _lead(kind: str) -> int:
    return int(conf("CARE_LEAD_DAYS").get(kind, 0))


def _scope_filter(qs: QuerySet[Customer], scope: str) -> QuerySet[Customer]:
    return qs.filter(stage=SIGNED) if scope == "signed" else qs


def care_calendar_generate(*, today: dt.date | None = None) -> int:
    """Care tasks for the coming days: birthdays (solar and lunar), festivals, special days on the
    archive and life events, for every rep's customers. Safe to run any number of times."""
    today = today or _today()
    start, end = today, today + dt.timedelta(days=conf("CARE_LOOKAHEAD_DAYS"))
    rows: list[CareTask] = []
    owned = _owned(Customer.objects.all()).only(
        "id", "name", "kind", "owner_id", "stage", "birth_date", "birthday_calendar", "special_days"
    )

    # Birthdays: the window is widened by the lead so a task due today for a later birthday is made.
    lead = _lead("birthday")
    for c in _scope_filter(owned, conf("BIRTHDAY_SCOPE")).filter(birth_date__isnull=False).iterator(2000):
        for day in rules.birthday_occurrences(c.birth_date, c.birthday_calendar, start, end + dt.timedelta(days=lead)):
            rows.append(
                _task(
                    CareTask.Kind.BIRTHDAY, c, c.owner_id, due_on=day - dt.timedelta(days=lead), occasion_on=day,
                    title=yearly_day_title(c, day), suggestion=yearly_day_wish(c),
                    key=f"birthday:{c.pk}:{day.isoformat()}",
                )
            )  # fmt: skip

    # Festivals: D-tier customers included — they are never dropped from care.
    lead = _lead("festival")
    festivals = rules.festival_occurrences(conf("FESTIVALS"), start, end + dt.timedelta(days=lead))
    if festivals:
        for c in _scope_filter(owned, conf("FESTIVAL_SCOPE")).iterator(2000):
            for day, fest in festivals:
                rows.append(
                    _task(
                        CareTask.Kind.FESTIVAL, c, c.owner_id, due_on=day - dt.timedelta(days=lead), occasion_on=day,
                        title=_("%(festival)s greeting to %(name)s") % {"festival": fest.name, "name": c.name},
                        suggestion=_("%(greeting)s, %(name)s! Thank you for your trust; wishing you and your family all the best.")
                        % {"greeting": fest.greeting, "name": c.name},
                        key=f"festival:{fest.code}:{c.pk}:{day.isoformat()}",
                    )
                )  # fmt: skip

    # Special days written on the archive ("结婚纪念日 2010-05-20", "农历 8-3 母亲生日").
    lead = _lead("special_day")
    for c in owned.exclude(special_days="").iterator(2000):
        for sd in rules.parse_special_days(c.special_days):
            for day in rules.special_day_occurrences(sd, start, end + dt.timedelta(days=lead)):
                rows.append(
                    _task(
                        CareTask.Kind.SPECIAL_DAY, c, c.owner_id, due_on=day - dt.timedelta(days=lead), occasion_on=day,
                        title=_("%(label)s of %(name)s on %(date)s") % {"label": sd.label, "name": c.name, "date": day.isoformat()},
                        suggestion=_("%(name)s, congratulations on your %(label)s! Best wishes.") % {"name": c.name, "label": sd.label},
                        key=f"special:{c.pk}:{'L' if sd.lunar else 'S'}{sd.month}-{sd.day}:{day.isoformat()}",
                    )
                )  # fmt: skip

    # Life events on the archive: worth a visit.
    lead = _lead("life_event")
    events = LifeEvent.objects.select_related("customer").filter(
        customer__owner__isnull=False, customer__deleted_at__isnull=True
    )
    events = events.filter(Q(recurring=True) | Q(on__gte=start, on__lte=end + dt.timedelta(days=lead)))
    for ev in events.iterator(2000):
        c = ev.customer
        for day in rules.yearly_occurrences(ev.on, start, end + dt.timedelta(days=lead), recurring=ev.recurring):
            rows.append(
                _task(
                    CareTask.Kind.LIFE_EVENT, c, c.owner_id, due_on=max(day - dt.timedelta(days=lead), today), occasion_on=day,
                    title=_("%(event)s: %(name)s on %(date)s") % {"event": ev.get_kind_display(), "name": c.name, "date": day.isoformat()},
                    suggestion=_("%(name)s, I heard about your %(event)s — congratulations! May I drop by with a small gift?")
                    % {"name": c.name, "event": ev.get_kind_display()}
                    if ev.kind != LifeEvent.Kind.ILLNESS
                    else _("%(name)s, I heard you are unwell. Take good care; may I visit?") % {"name": c.name},
                    key=f"life:{ev.pk}:{day.isoformat()}",
                )
            )  # fmt: skip
    return tasks_create(rows)


@transaction.atomic
def life_event_add(
    *, actor: User, customer: Customer, kind: str, on: dt.date, recurring: bool = False, note: str = ""
) -> LifeEvent:
    if kind not in LifeEvent.Kind.values:
        raise ValidationFailed({"kind": [_("Choose a kind of life event.")]})
    return LifeEvent.objects.create(
        customer=customer, kind=kind, on=on, recurring=recurring, note=note.strip()[:300], created_by=actor
    )


@transaction.atomic
def gift_log(
    *,
    actor: User,
    customer: Customer,
    item: str,
    cost: Any,
    given_on: dt.date | None = None,
    occasion: str = "",
    care_task: CareTask | None = None,
) -> Gift:
    item = (item or "").strip()
    if not item:
        raise ValidationFailed({"item": [_("Say what the gift was.")]})
    return Gift.objects.create(
        customer=customer,
        rep=actor,
        given_on=given_on or _today(),
        item=item[:200],
        cost=_money(cost, "cost", allow_zero=True),
        occasion=occasion.strip()[:200],
        care_task=care_task,
    )


# --------------------------------------------------------------------------- regional events


def _regions_for(actor: User) -> QuerySet[Region]:
    if actor.is_admin_role:
        return Region.objects.all()
    region_id = actor.region_id or (actor.team.region_id if actor.team_id else None)
    return Region.objects.filter(pk=region_id)


def may_record_regional_event(actor: User) -> bool:
    return actor.is_admin_role or actor.role in (Role.LEAD, Role.DIRECTOR)


@transaction.atomic
def regional_event_record(
    *,
    actor: User,
    kind: str,
    title: str,
    on: dt.date,
    region: Region | None = None,
    province: str = "",
    city: str = "",
    description: str = "",
) -> RegionalEvent:
    """A lead or director records a storm, flood, fire or accident for an area and a date; every
    customer there in the actor's scope gets a care task on their rep's agenda."""
    if not may_record_regional_event(actor):
        raise DomainError(_("Only team leads and directors record regional events."), code="forbidden")
    province, city, title = province.strip(), city.strip(), title.strip()
    errors: dict[str, list[str]] = {}
    if kind not in RegionalEvent.Kind.values:
        errors["kind"] = [_("Choose a kind of event.")]
    if not title:
        errors["title"] = [_("Give the event a title.")]
    if region is None and not province and not city:
        errors["region"] = [_("Name a region, a province or a city.")]
    if region is not None and not _regions_for(actor).filter(pk=region.pk).exists():
        errors["region"] = [_("This region is outside your scope.")]
    if errors:
        raise ValidationFailed(errors)
    event = RegionalEvent.objects.create(
        kind=kind, title=title[:200], region=region, province=province, city=city, on=on,
        description=description.strip(), created_by=actor,
    )  # fmt: skip
    place = Q()
    if region is not None:
        place &= Q(region=region)
    if province:
        place &= Q(province=province)
    if city:
        place &= Q(city=city)
    customers = _owned(visible_customers(actor, include_pool=False)).filter(place).only("id", "name", "owner_id")
    today = _today()
    rows = [
        _task(
            CareTask.Kind.REGIONAL, c, c.owner_id, due_on=max(on, today), occasion_on=on,
            title=_("%(event)s: call or visit %(name)s") % {"event": event.title, "name": c.name},
            suggestion=_("%(name)s, I heard about the %(event)s in your area. Are you and your family safe? "
                         "Is there anything I can do to help?") % {"name": c.name, "event": event.title},
            key=f"regional:{event.pk}:{c.pk}",
        )
        for c in customers
    ]  # fmt: skip
    event.tasks_created = tasks_create(rows)
    event.save(update_fields=["tasks_created"])
    return event


# --------------------------------------------------------------------------- value tiers


def tier_thresholds() -> rules.TierThresholds:
    return rules.TierThresholds(
        a_contribution=Decimal(conf("TIER_A_CONTRIBUTION")),
        a_funds=Decimal(conf("TIER_A_FUNDS")),
        b_contribution=Decimal(conf("TIER_B_CONTRIBUTION")),
        b_funds=Decimal(conf("TIER_B_FUNDS")),
        b_opportunities=int(conf("TIER_B_OPPORTUNITIES")),
        c_contribution=Decimal(conf("TIER_C_CONTRIBUTION")),
        c_funds=Decimal(conf("TIER_C_FUNDS")),
        c_opportunities=int(conf("TIER_C_OPPORTUNITIES")),
    )


def tier_inputs(customer_ids: Sequence[int], *, today: dt.date) -> dict[int, tuple[Decimal, int]]:
    """Per customer: (revenue in the window, open opportunities).

    Open opportunities: customers it referred who have not signed yet, plus contracts whose renewal
    talk is due (ending within RENEWAL_NOTICE_DAYS)."""
    since = today - dt.timedelta(days=conf("TIER_WINDOW_DAYS"))
    revenue = dict(
        Payment.objects.filter(customer_id__in=customer_ids, paid_on__gt=since, paid_on__lte=today)
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )
    opps: dict[int, int] = {}
    referred_open = (
        Customer.objects.filter(referrer_id__in=customer_ids, deleted_at__isnull=True, stage__gte=Stage.S0)
        .exclude(stage=SIGNED)
        .values_list("referrer_id", flat=True)
    )
    for rid in referred_open:
        opps[rid] = opps.get(rid, 0) + 1
    renewals = Contract.objects.filter(
        customer_id__in=customer_ids,
        status=Contract.Status.ACTIVE,
        end_date__gte=today,
        end_date__lte=today + dt.timedelta(days=conf("RENEWAL_NOTICE_DAYS")),
    ).values_list("customer_id", flat=True)
    for cid in renewals:
        opps[cid] = opps.get(cid, 0) + 1
    return {cid: (revenue.get(cid) or Decimal(0), opps.get(cid, 0)) for cid in customer_ids}


def _set_value_tier(
    customer_id: int, old: str, new: str, *, manual: bool, reason: str = "", by: User | None = None
) -> None:
    if old == new:
        return
    Customer.objects.filter(pk=customer_id).update(value_tier=new)
    TierChange.objects.create(customer_id=customer_id, from_tier=old, to_tier=new, manual=manual, reason=reason, by=by)


def tiers_recompute(*, today: dt.date | None = None, customers: QuerySet[Customer] | None = None) -> int:
    """Recompute the value tier of signed customers; a manual override wins. Returns changes."""
    today = today or _today()
    qs = customers if customers is not None else Customer.objects.filter(stage=SIGNED, deleted_at__isnull=True)
    rows = list(qs.values_list("pk", "funds_available", "value_tier"))
    if not rows:
        return 0
    thresholds = tier_thresholds()
    changed = 0
    ids = [r[0] for r in rows]
    inputs = tier_inputs(ids, today=today)
    cares = {c.customer_id: c for c in CustomerCare.objects.filter(customer_id__in=ids)}
    now = timezone.now()
    with transaction.atomic():
        for pk, funds, current in rows:
            revenue, opportunities = inputs[pk]
            computed = rules.value_tier(revenue, funds, opportunities, thresholds)
            care = cares.get(pk) or CustomerCare.objects.create(customer_id=pk)
            if care.computed_tier != computed:
                care.computed_tier = computed
                care.tier_computed_at = now
                care.save(update_fields=["computed_tier", "tier_computed_at"])
            effective = care.tier_override or computed
            if effective != current:
                _set_value_tier(pk, current, effective, manual=False, reason=_("computed"))
                changed += 1
    return changed


@transaction.atomic
def tier_override(*, actor: User, customer: Customer, tier: str, reason: str) -> CustomerCare:
    """Set the value tier by hand (with a reason), or clear the override with ``tier=""``."""
    reason = (reason or "").strip()
    if tier and tier not in ValueTier.values:
        raise ValidationFailed({"tier": [_("Choose tier A, B, C or D.")]})
    if tier and not reason:
        raise ValidationFailed({"reason": [_("Give a reason for setting the tier by hand.")]})
    care = care_of(customer)
    care.tier_override = tier
    care.tier_override_reason = reason[:300] if tier else ""
    care.tier_override_by = actor if tier else None
    care.tier_override_at = timezone.now() if tier else None
    care.save()
    current, funds = Customer.objects.values_list("value_tier", "funds_available").get(pk=customer.pk)
    if tier:
        effective = tier
    elif care.computed_tier:  # back to the last computation; the daily run refreshes it
        effective = care.computed_tier
    else:
        revenue, opportunities = tier_inputs([customer.pk], today=_today())[customer.pk]
        effective = rules.value_tier(revenue, funds, opportunities, tier_thresholds())
        care.computed_tier = effective
        care.tier_computed_at = timezone.now()
        care.save(update_fields=["computed_tier", "tier_computed_at"])
    _set_value_tier(customer.pk, current, effective, manual=True, reason=reason or _("override cleared"), by=actor)
    customer.value_tier = effective
    return care


# --------------------------------------------------------------------------- loyalty and lapsing


@transaction.atomic
def loyalty_set(*, actor: User, customer: Customer, level: str, note: str = "") -> CustomerCare:
    if level not in LoyaltyLevel.values:
        raise ValidationFailed({"level": [_("Choose a level of the loyalty ladder.")]})
    care = CustomerCare.objects.select_for_update().filter(pk=customer.pk).first() or care_of(customer)
    if care.loyalty_level != level:
        LoyaltyChange.objects.create(
            customer=customer, from_level=care.loyalty_level, to_level=level, note=note.strip()[:300], by=actor
        )
        care.loyalty_level = level
        care.save(update_fields=["loyalty_level"])
    return care


def lapsing_scan(*, today: dt.date | None = None) -> int:
    """Signed customers with no purchase and no contact for LAPSE_DAYS: flag and a prevention task."""
    today = today or _today()
    lapse_days = conf("LAPSE_DAYS")
    qs = (
        _owned(Customer.objects.filter(stage=SIGNED))
        .annotate(last_paid=Max("payments__paid_on"))
        .values_list("pk", "name", "owner_id", "last_paid", "last_contact_at", "signed_at")
    )
    shipped = dict(
        Shipment.objects.filter(customer__stage=SIGNED)
        .values("customer_id")
        .annotate(last=Max("shipped_on"))
        .values_list("customer_id", "last")
    )
    cares = {c.customer_id: c for c in CustomerCare.objects.filter(customer__stage=SIGNED)}
    rows: list[CareTask] = []
    for pk, name, owner_id, last_paid, last_contact, signed_at in qs:
        last = rules.last_activity(
            [
                last_paid,
                shipped.get(pk),
                timezone.localtime(last_contact).date() if last_contact else None,
                timezone.localtime(signed_at).date() if signed_at else None,
            ]
        )
        lapsing = rules.is_lapsing(last, today, lapse_days)
        care = cares.get(pk)
        if lapsing:
            if care is None:
                care = CustomerCare.objects.create(customer_id=pk)
            if care.lapsing_since is None:
                care.lapsing_since = today
                care.save(update_fields=["lapsing_since"])
            customer = Customer(pk=pk, name=name)
            rows.append(
                _task(
                    CareTask.Kind.LAPSE, customer, owner_id, due_on=today, occasion_on=last,
                    title=_("%(name)s is lapsing: no purchase or contact since %(date)s") % {"name": name, "date": last.isoformat()},
                    suggestion=_("%(name)s, it has been a while — I wanted to share how your project is doing and some good "
                                 "news. When would suit you for a short chat?") % {"name": name},
                    key=f"lapse:{pk}:{last.isoformat()}",
                )
            )  # fmt: skip
        elif care is not None and care.lapsing_since is not None:
            care.lapsing_since = None
            care.save(update_fields=["lapsing_since"])
    return tasks_create(rows)


# --------------------------------------------------------------------------- referrals


@transaction.atomic
def referrer_type_set(*, actor: User, customer: Customer, referrer_type: str) -> CustomerCare:
    if referrer_type and referrer_type not in ReferrerType.values:
        raise ValidationFailed({"referrer_type": [_("Choose honour, practical or friendship.")]})
    care = care_of(customer)
    care.referrer_type = referrer_type
    care.save(update_fields=["referrer_type"])
    return care


@transaction.atomic
def referral_ask_log(
    *,
    actor: User,
    customer: Customer,
    prerequisites: Iterable[str],
    outcome: str,
    names_given: str = "",
    note: str = "",
    follow_up: Any = None,
) -> ReferralAsk:
    """Log a referral ask (or the decision not to ask yet) with the prerequisites that held."""
    ticked = [code for code, _label in rules.REFERRAL_PREREQUISITES if code in set(prerequisites)]
    if outcome not in ReferralAsk.Outcome.values:
        raise ValidationFailed({"outcome": [_("Choose what came of the ask.")]})
    if follow_up is not None and follow_up.customer_id != customer.pk:
        raise ValidationFailed({"follow_up": [_("This follow-up belongs to another customer.")]})
    return ReferralAsk.objects.create(
        customer=customer, rep=actor, follow_up=follow_up, prerequisites=ticked, outcome=outcome,
        names_given=names_given.strip()[:300], note=note.strip()[:300],
    )  # fmt: skip


def on_customer_signed(customer: Customer) -> CareTask | None:
    """A referred customer signed: a thank-you task for the referrer's rep, and a reward record when
    the referrer is practical. Idempotent; also run by the periodic referral scan."""
    customer = Customer.objects.select_related("referrer").get(pk=customer.pk)
    referrer = customer.referrer
    if referrer is None or customer.stage != SIGNED or referrer.deleted_at is not None:
        return None
    rep_id = referrer.owner_id or customer.owner_id
    care = CustomerCare.objects.filter(pk=referrer.pk).first()
    with transaction.atomic():
        if care is not None and care.referrer_type == ReferrerType.PRACTICAL:
            ReferralReward.objects.get_or_create(
                referred=customer, defaults={"referrer": referrer, "amount": Decimal(conf("REFERRAL_REWARD_YUAN"))}
            )
        if rep_id is None:
            return None
        key = f"referral-thanks:{customer.pk}"
        extra = {
            ReferrerType.HONOUR: _("Thank them warmly, in front of others if they like."),
            ReferrerType.PRACTICAL: _("A referral reward has been recorded for them."),
            ReferrerType.FRIENDSHIP: _("Thank them as a friend would."),
        }.get(care.referrer_type if care else "", "")
        tasks_create(
            [
                _task(
                    CareTask.Kind.REFERRAL_THANKS, referrer, rep_id, due_on=_today(),
                    title=_("Thank %(referrer)s: %(name)s, whom they referred, has signed")
                    % {"referrer": referrer.name, "name": customer.name},
                    suggestion=(_("%(referrer)s, thank you for introducing %(name)s to us — they have just signed. "
                                  "We will take good care of them.") % {"referrer": referrer.name, "name": customer.name}
                                + (" " + extra if extra else "")),
                    key=key,
                )
            ]
        )  # fmt: skip
    return CareTask.objects.get(source_key=key)


def referral_scan() -> int:
    """Finds referred customers who signed and were not yet thanked (or rewarded); works without
    the pipeline calling ``on_customer_signed``."""
    thanked = CareTask.objects.filter(kind=CareTask.Kind.REFERRAL_THANKS).values_list("source_key", flat=True)
    thanked_ids = {int(k.rsplit(":", 1)[1]) for k in thanked}
    rewarded = set(ReferralReward.objects.values_list("referred_id", flat=True))
    practical = set(
        CustomerCare.objects.filter(referrer_type=ReferrerType.PRACTICAL).values_list("customer_id", flat=True)
    )
    done = 0
    candidates = Customer.objects.filter(
        referrer__isnull=False, stage=SIGNED, deleted_at__isnull=True, referrer__deleted_at__isnull=True
    ).values_list("pk", "referrer_id", "owner_id", "referrer__owner_id")
    for pk, referrer_id, owner_id, referrer_owner in candidates:
        needs_thanks = pk not in thanked_ids and (owner_id or referrer_owner)
        needs_reward = referrer_id in practical and pk not in rewarded
        if needs_thanks or needs_reward:
            on_customer_signed(Customer(pk=pk))
            done += 1
    return done


@transaction.atomic
def reward_mark_paid(*, actor: User, reward: ReferralReward) -> ReferralReward:
    reward.status = ReferralReward.Status.PAID
    reward.paid_at = timezone.now()
    reward.save(update_fields=["status", "paid_at"])
    return reward


# --------------------------------------------------------------------------- campaigns

SEGMENT_KEYS = ("tiers", "stages", "tags", "region_ids", "provinces", "cities", "signed_only", "lapsing_only")


def clean_segment(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a segment; unknown keys and bad values are refused with a clear message."""
    errors: dict[str, list[str]] = {}
    seg: dict[str, Any] = {}
    for key in raw:
        if key not in SEGMENT_KEYS:
            errors.setdefault("segment", []).append(_("Unknown segment filter “%(key)s”.") % {"key": key})

    def str_list(key: str) -> list[str]:
        value = raw.get(key) or []
        if isinstance(value, str):
            value = [v for v in value.replace("，", ",").split(",")]
        return [str(v).strip() for v in value if str(v).strip()]

    tiers = str_list("tiers")
    if any(t not in ValueTier.values for t in tiers):
        errors["tiers"] = [_("Value tiers are A, B, C and D.")]
    try:
        stages = [int(s) for s in str_list("stages")]
        if any(s not in Stage.values for s in stages):
            raise ValueError
    except ValueError:
        errors["stages"] = [_("Stages are -1 to 5 (5 = signed, E class).")]
        stages = []
    try:
        region_ids = [int(r) for r in str_list("region_ids")]
    except ValueError:
        errors["region_ids"] = [_("Unknown region.")]
        region_ids = []
    if region_ids and Region.objects.filter(pk__in=region_ids).count() != len(set(region_ids)):
        errors["region_ids"] = [_("Unknown region.")]
    if errors:
        raise ValidationFailed(errors)
    for key, value in (("tiers", tiers), ("stages", stages), ("tags", str_list("tags")), ("region_ids", region_ids),
                       ("provinces", str_list("provinces")), ("cities", str_list("cities"))):  # fmt: skip
        if value:
            seg[key] = value
    for flag in ("signed_only", "lapsing_only"):
        if raw.get(flag):
            seg[flag] = True
    return seg


def segment_customers(user: User, segment: Mapping[str, Any]) -> QuerySet[Customer]:
    """The customers a campaign reaches: the user's own scope (never the pool), filtered."""
    qs = _owned(editable_customers(user))
    if segment.get("tiers"):
        qs = qs.filter(value_tier__in=segment["tiers"])
    if segment.get("stages"):
        qs = qs.filter(stage__in=segment["stages"])
    if segment.get("signed_only"):
        qs = qs.filter(stage=SIGNED)
    if segment.get("tags"):
        qs = qs.filter(tags__in=Tag.objects.filter(name__in=segment["tags"])).distinct()
    if segment.get("region_ids"):
        qs = qs.filter(region_id__in=segment["region_ids"])
    if segment.get("provinces"):
        qs = qs.filter(province__in=segment["provinces"])
    if segment.get("cities"):
        qs = qs.filter(city__in=segment["cities"])
    if segment.get("lapsing_only"):
        qs = qs.filter(care__lapsing_since__isnull=False)
    return qs


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    template: str,
    segment: Mapping[str, Any] | None = None,
    subject: str = "",
    reply_window_hours: int | None = None,
) -> Campaign:
    name, template = (name or "").strip(), (template or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the campaign a name.")]
    if not template:
        errors["template"] = [_("Write the message.")]
    unknown = rules.unknown_placeholders(template)
    if unknown:
        errors["template"] = [
            _("Unknown placeholder(s): %(names)s. Use %(known)s.")
            % {
                "names": ", ".join(f"{{{u}}}" for u in unknown),
                "known": ", ".join(f"{{{k}}}" for k in rules.PLACEHOLDERS),
            }
        ]
    window = conf("REPLY_WINDOW_HOURS") if reply_window_hours is None else reply_window_hours
    if not isinstance(window, int) or not 1 <= window <= 24 * 14:
        errors["reply_window_hours"] = [_("The reply window is 1 hour to 14 days.")]
    if errors:
        raise ValidationFailed(errors)
    return Campaign.objects.create(
        name=name[:200], template=template, subject=(subject or "").strip()[:200], segment=clean_segment(segment or {}),
        reply_window_hours=window, created_by=actor,
    )  # fmt: skip


def _address(customer: Customer, channel: str) -> str:
    if channel == "sms":
        number = customer.phone_normalized or ""
        return number[3:] if number.startswith("+86") else number
    if channel == "email":
        return customer.email
    if channel == "wechat":
        return customer.wechat
    return ""


def campaign_preview(*, actor: User, campaign: Campaign) -> dict[str, Any]:
    """Audience size and a rendered sample, before launching."""
    audience = segment_customers(campaign.created_by, campaign.segment).select_related("owner")
    sample = audience.first()
    return {
        "count": audience.count(),
        "sample": rules.render_message(campaign.template, _placeholder_values(sample)) if sample else "",
    }


def _placeholder_values(customer: Customer) -> dict[str, str]:
    rep = customer.owner
    return {
        "name": customer.name,
        "rep": rep.label if rep else "",
        "rep_phone": rep.phone if rep else "",
        "company": customer.company_name,
        "tier": customer.value_tier,
        "city": customer.city,
    }


def _enqueue_send(campaign_id: int) -> None:
    from yixiang.aftercare.tasks import send_campaign_task

    transaction.on_commit(lambda: send_campaign_task(campaign_id))


@transaction.atomic
def campaign_launch(*, actor: User, campaign: Campaign) -> int:
    """Create one Message row per customer (before anything is sent), then hand over to the worker."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.created_by_id != actor.pk and not actor.is_admin_role:
        raise DomainError(_("Only the campaign's author launches it."), code="forbidden")
    if campaign.status != Campaign.Status.DRAFT:
        raise Conflict(_("This campaign was already launched."), code="already_launched")
    fallback = conf("CHANNEL_FALLBACK")
    robot = robot_ready()
    rows = []
    for c in segment_customers(campaign.created_by, campaign.segment).select_related("owner"):
        channel = rules.resolve_channel(
            c.preferred_channel, phone=bool(c.phone_normalized), email=bool(c.email), wechat=bool(c.wechat),
            robot_ready=robot, fallback=fallback,
        )  # fmt: skip
        rows.append(
            Message(
                campaign=campaign, customer=c, rep_id=c.owner_id, channel=channel or "",
                address=_address(c, channel) if channel else "",
                body=rules.render_message(campaign.template, _placeholder_values(c)),
                status=Message.Status.PENDING if channel else Message.Status.SKIPPED,
            )
        )  # fmt: skip
    Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    campaign.status = Campaign.Status.SENDING
    campaign.launched_at = timezone.now()
    campaign.save(update_fields=["status", "launched_at"])
    _enqueue_send(campaign.pk)
    return len(rows)


def message_claim(message_id: int, *, now: dt.datetime | None = None) -> bool:
    """Take a pending message for sending. The conditional UPDATE is the lock: of two workers
    racing for the same row exactly one sees ``1``."""
    return bool(
        Message.objects.filter(pk=message_id, status=Message.Status.PENDING).update(
            status=Message.Status.SENDING, claimed_at=now or timezone.now(), attempts=F("attempts") + 1
        )
    )


def _unit_costs() -> dict[str, Decimal]:
    return {
        "sms": Decimal(conf("COST_SMS")),
        "email": Decimal(conf("COST_EMAIL")),
        "wechat": Decimal(conf("COST_ROBOT")),
    }


def _send_one(message: Message, adapter: Adapter) -> str:
    """Send a claimed message and record the outcome. Each state change is its own commit, so a
    crash leaves the row in a state the recovery understands."""
    try:
        result = adapter.send(message)
    except TemporaryFailure as exc:
        status = Message.Status.PENDING if message.attempts < conf("SEND_MAX_ATTEMPTS") else Message.Status.FAILED
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(status=status, error=str(exc)[:300])
        return "retry" if status == Message.Status.PENDING else "failed"
    except PermanentFailure as exc:
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.FAILED, error=str(exc)[:300]
        )
        return "failed"
    except Exception as exc:  # we cannot tell whether it went out: leave it in doubt for the recovery
        log.exception("message %s: outcome unknown", message.pk)
        Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(error=str(exc)[:300])
        return "doubt"
    cost = result.cost if result.cost is not None else rules.message_cost(message.channel, message.body, _unit_costs())
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SENT, sent_at=timezone.now(), provider_ref=result.provider_ref[:100], cost=cost, error=""
    )
    return "sent"


def campaign_send(
    campaign_id: int, *, adapters: Mapping[str, Adapter] | None = None, limit: int | None = None
) -> dict[str, int]:
    """The worker's job: recover messages in doubt, then claim and send pending ones in batches.
    ``limit`` stops after that many claims (the periodic sweep finishes the rest)."""
    adapters = adapters or default_adapters()
    counts = {"sent": 0, "failed": 0, "retry": 0, "doubt": 0}
    counts.update(messages_recover(campaign_id=campaign_id, adapters=adapters))
    batch = conf("SEND_BATCH_SIZE")
    claimed = 0
    while limit is None or claimed < limit:
        ids = list(
            Message.objects.filter(campaign_id=campaign_id, status=Message.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        retry_later = False
        for pk in ids:
            if limit is not None and claimed >= limit:
                break
            if not message_claim(pk):
                continue  # another worker has it
            claimed += 1
            message = Message.objects.select_related("campaign", "customer", "rep").get(pk=pk)
            adapter = adapters.get(message.channel)
            if adapter is None:
                Message.objects.filter(pk=pk).update(status=Message.Status.FAILED, error="no adapter")
                counts["failed"] += 1
                continue
            outcome = _send_one(message, adapter)
            counts[outcome] += 1
            if outcome == "retry":
                retry_later = True  # the provider is down: stop hammering it, the sweep retries
                break
        if retry_later:
            break
    open_rows = Message.objects.filter(
        campaign_id=campaign_id, status__in=[Message.Status.PENDING, Message.Status.SENDING]
    ).exists()
    if not open_rows:
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(status=Campaign.Status.SENT)
    return counts


def messages_recover(
    *, campaign_id: int | None = None, adapters: Mapping[str, Adapter] | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Messages claimed longer ago than SEND_CLAIM_TIMEOUT_MINUTES and never finished: a worker died
    with them. Ask the provider: sent → mark sent; not sent → back to pending; cannot tell (SMTP,
    robots) → "in doubt" with a task for the rep to check — never sent a second time blindly."""
    adapters = adapters or default_adapters()
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=conf("SEND_CLAIM_TIMEOUT_MINUTES"))
    qs = Message.objects.select_related("campaign", "customer", "rep").filter(
        status=Message.Status.SENDING, claimed_at__lt=cutoff
    )
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    counts = {"recovered_sent": 0, "requeued": 0, "in_doubt": 0}
    tasks: list[CareTask] = []
    for m in qs:
        adapter = adapters.get(m.channel)
        verdict = adapter.check(m) if adapter else None
        if verdict is True:
            cost = rules.message_cost(m.channel, m.body, _unit_costs())
            n = Message.objects.filter(pk=m.pk, status=Message.Status.SENDING, claimed_at=m.claimed_at).update(
                status=Message.Status.SENT, sent_at=m.claimed_at, cost=cost
            )
            counts["recovered_sent"] += n
        elif verdict is False:
            n = Message.objects.filter(pk=m.pk, status=Message.Status.SENDING, claimed_at=m.claimed_at).update(
                status=Message.Status.PENDING
            )
            counts["requeued"] += n
        else:
            n = Message.objects.filter(pk=m.pk, status=Message.Status.SENDING, claimed_at=m.claimed_at).update(
                status=Message.Status.UNKNOWN
            )
            counts["in_doubt"] += n
            if n and m.rep_id:
                tasks.append(
                    _task(
                        CareTask.Kind.MESSAGE_CHECK, m.customer, m.rep_id, due_on=timezone.localdate(now),
                        title=_("Check whether %(name)s got the message of “%(campaign)s”")
                        % {"name": m.customer.name, "campaign": m.campaign.name},
                        suggestion=_("The sending was interrupted; ask %(name)s whether the message arrived. "
                                     "Resend it from the campaign page only if it did not.") % {"name": m.customer.name},
                        key=f"message-check:{m.pk}",
                    )
                )  # fmt: skip
    tasks_create(tasks)
    return counts


@transaction.atomic
def message_resend(*, actor: User, message: Message) -> Message:
    """Put a failed or in-doubt message back in the queue (after checking with the customer)."""
    n = Message.objects.filter(pk=message.pk, status__in=[Message.Status.FAILED, Message.Status.UNKNOWN]).update(
        status=Message.Status.PENDING, error=""
    )
    if not n:
        raise Conflict(_("Only a failed or in-doubt message can be sent again."))
    Campaign.objects.filter(pk=message.campaign_id).update(status=Campaign.Status.SENDING)
    _enqueue_send(message.campaign_id)
    message.refresh_from_db()
    return message


def campaigns_sweep(*, adapters: Mapping[str, Adapter] | None = None) -> dict[str, int]:
    """Periodic: finish every campaign still sending (a lost worker task, a retry after an outage)."""
    total: dict[str, int] = {}
    messages_recover(adapters=adapters)
    for cid in Campaign.objects.filter(status=Campaign.Status.SENDING).values_list("pk", flat=True):
        for k, v in campaign_send(cid, adapters=adapters).items():
            total[k] = total.get(k, 0) + v
    return total


def _national(mobile: str) -> str:
    digits = "".join(ch for ch in mobile if ch.isdigit() or ch == "+")
    if digits.startswith("+86"):
        return digits[3:]
    if digits.startswith("0086"):
        return digits[4:]
    return digits


def reply_record(
    *, address: str, text: str, provider_ref: str, received_at: dt.datetime | None = None
) -> InboundReply | None:
    """A reply pushed by the provider. Matched to the latest message sent to that address; a
    repeated push (same provider id) is ignored."""
    address = _national(address)
    received_at = received_at or timezone.now()
    with transaction.atomic():
        if InboundReply.objects.filter(provider_ref=provider_ref).exists():
            return None
        message = (
            Message.objects.filter(address=address, status=Message.Status.SENT, sent_at__lte=received_at)
            .order_by("-sent_at", "-pk")
            .first()
        )
        try:
            with transaction.atomic():
                reply = InboundReply.objects.create(
                    provider_ref=provider_ref[:100],
                    address=address,
                    text=text,
                    received_at=received_at,
                    message=message,
                )
        except IntegrityError:
            return None
        if message is not None and message.replied_at is None:
            Message.objects.filter(pk=message.pk, replied_at__isnull=True).update(
                replied_at=received_at, reply_text=text[:2000]
            )
    return reply


@transaction.atomic
def reply_log_by_hand(*, actor: User, message: Message, text: str) -> Message:
    """The rep saw a reply elsewhere (WeChat, a call) and logs it."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"text": [_("Write what the customer replied.")]})
    Message.objects.filter(pk=message.pk).update(replied_at=timezone.now(), reply_text=text[:2000])
    message.refresh_from_db()
    return message


def non_replier_tasks_run(*, now: dt.datetime | None = None) -> int:
    """After the reply window, every customer who did not reply (or could not be reached) becomes a
    call task on their rep's agenda: several channels beat one."""
    now = now or timezone.now()
    created = 0
    for campaign in Campaign.objects.exclude(status=Campaign.Status.DRAFT).filter(launched_at__isnull=False):
        cutoff = now - dt.timedelta(hours=campaign.reply_window_hours)
        if campaign.launched_at > cutoff:
            continue
        silent = (
            Message.objects.select_related("customer")
            .filter(campaign=campaign, replied_at__isnull=True, call_task_created=False, rep__isnull=False)
            .filter(
                Q(status=Message.Status.SENT, sent_at__lte=cutoff)
                | Q(status__in=[Message.Status.SKIPPED, Message.Status.FAILED])
            )
        )
        rows, ids = [], []
        for m in silent:
            ids.append(m.pk)
            rows.append(
                _task(
                    CareTask.Kind.CAMPAIGN_CALL, m.customer, m.rep_id, due_on=timezone.localdate(now),
                    title=_("Call %(name)s: no reply to “%(campaign)s”") % {"name": m.customer.name, "campaign": campaign.name},
                    suggestion=_("%(name)s, I sent you a note about %(campaign)s — did you see it? I wanted to tell you "
                                 "in person.") % {"name": m.customer.name, "campaign": campaign.name},
                    key=f"campaign-call:{m.pk}",
                )
            )  # fmt: skip
        with transaction.atomic():
            created += tasks_create(rows)
            Message.objects.filter(pk__in=ids).update(call_task_created=True)
    return created


# --------------------------------------------------------------------------- the daily run


def daily_run(*, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the after-sale part does once a day, each step idempotent."""
    today = today or _today()
    return {
        "owners": care_tasks_follow_owner(),
        "payouts": payout_reminders_run(today=today),
        "renewals": renewal_reminders_run(today=today),
        "calendar": care_calendar_generate(today=today),
        "tiers": tiers_recompute(today=today),
        "lapsing": lapsing_scan(today=today),
        "referrals": referral_scan(),
    }
