"""Writes of the after-sale part: care tasks (the shared sink of every generator), the care
calendar, life events, gifts and regional events. Contracts and money, loyalty and referrals, and
campaigns have their own ``services_*`` modules. Views, API, Huey tasks and tests come through here.

Generators (reminders, care calendar, scans) are idempotent: every care task has a unique
``source_key`` naming its occasion, so running a generator twice creates nothing new."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts import permissions
from yixiang.accounts.models import Region, User
from yixiang.aftercare import rules
from yixiang.aftercare.care_words import (
    QUICK_CARE,
    quick_care_label,
    quick_care_message,
    yearly_day_title,
    yearly_day_wish,
)
from yixiang.aftercare.conf import conf
from yixiang.aftercare.models import (
    CareTask,
    CustomerCare,
    Gift,
    LifeEvent,
    RegionalEvent,
)
from yixiang.customers.models import Customer, Stage
from yixiang.customers.scoping import visible_customers
from yixiang.errors import DomainError, ValidationFailed

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


def _owned(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    return qs.filter(owner__isnull=False, deleted_at__isnull=True)


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
                        title=(_("%(festival)s card to %(name)s") if fest.card else _("%(festival)s greeting to %(name)s"))
                        % {"festival": fest.name, "name": c.name},
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

    # Life events on the archive. Seed 003 (拜访时机): a promotion, a raise, a child, a maturity, a
    # year-end bonus or a prize win is the moment for a closing visit (促成拜访); illness gets a
    # get-well visit, the other kinds congratulations.
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
                    title=_life_event_title(ev, c, day), suggestion=_life_event_suggestion(ev, c),
                    key=f"life:{ev.pk}:{day.isoformat()}",
                )
            )  # fmt: skip
    return tasks_create(rows)


def _life_event_title(ev: LifeEvent, c: Customer, day: dt.date) -> str:
    values = {"event": ev.get_kind_display(), "name": c.name, "date": day.isoformat()}
    if ev.kind in rules.CLOSING_VISIT_EVENTS:
        return _("Closing visit — %(event)s: %(name)s on %(date)s") % values
    return _("%(event)s: %(name)s on %(date)s") % values


def _life_event_suggestion(ev: LifeEvent, c: Customer) -> str:
    if ev.kind == LifeEvent.Kind.ILLNESS:
        return _("%(name)s, I heard you are unwell. Take good care; may I visit?") % {"name": c.name}
    congratulations = _(
        "%(name)s, I heard about your %(event)s — congratulations! May I drop by with a small gift?"
    ) % {
        "name": c.name,
        "event": ev.get_kind_display(),
    }
    if ev.kind in rules.CLOSING_VISIT_EVENTS:
        return (
            congratulations
            + " "
            + _(
                "A good moment for a closing visit (促成拜访): think about what the customer now wants, and bring a proposal."
            )
        )
    return congratulations


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
    """A lead or director records a fire, flood, traffic accident, death or injury (or a storm …)
    for an area and a date; every customer there in the actor's scope gets a task on their rep's
    agenda: ask after them first, then explain what the product is for (seed 003 地域的拜访)."""
    if not permissions.may_record_regional_event(actor):
        raise DomainError(_("Only team leads and directors record regional events."), code="forbidden")
    province, city, title = province.strip(), city.strip(), title.strip()
    errors: dict[str, list[str]] = {}
    if kind not in RegionalEvent.Kind.values:
        errors["kind"] = [_("Choose a kind of event.")]
    if not title:
        errors["title"] = [_("Give the event a title.")]
    if region is None and not province and not city:
        errors["region"] = [_("Name a region, a province or a city.")]
    if region is not None and not permissions.regional_event_regions(actor).filter(pk=region.pk).exists():
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
            title=_("%(event)s: visit %(name)s") % {"event": event.title, "name": c.name},
            suggestion=(_("%(name)s, I heard about the %(event)s in your area. Are you and your family safe? "
                          "Is there anything I can do to help?") % {"name": c.name, "event": event.title}
                        + " " + _("Demand for our product rises in the area after such an event (seed 003): once "
                                  "they are safe, explain what the product is for and how it protects them.")),
            key=f"regional:{event.pk}:{c.pk}",
        )
        for c in customers
    ]  # fmt: skip
    event.tasks_created = tasks_create(rows)
    event.save(update_fields=["tasks_created"])
    return event


# --------------------------------------------------------------------------- quick care


@transaction.atomic
def care_quick_record(*, actor: User, customer: Customer, kind: str, note: str = "") -> CareTask:
    """A rep records a care gesture just made for one of their own customers (a rain, snow or fog
    greeting, a get-well call, care for an elderly customer living alone: seed 000). It is kept as
    a care task done now, with the seed's suggested words, so it shows in the customer's care list
    next to the generated ones."""
    if kind not in QUICK_CARE:
        raise ValidationFailed({"kind": [_("Choose a kind of care greeting.")]})
    if customer.owner_id != actor.pk:
        raise DomainError(_("Only the customer's own rep records a care greeting."), code="forbidden")
    now = timezone.now()
    task = _task(
        CareTask.Kind.QUICK_CARE, customer, actor, due_on=_today(), occasion_on=_today(),
        title=_("%(care)s: %(name)s") % {"care": quick_care_label(kind), "name": customer.name},
        suggestion=quick_care_message(kind, customer.name),
        key=f"quick:{customer.pk}:{kind}:{now.timestamp():.6f}",
    )  # fmt: skip
    task.done_at = now
    task.done_by = actor
    task.outcome = note.strip()[:300]
    task.save()
    return task
