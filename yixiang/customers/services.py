"""Writes to the customer archive. Views, API, import and demo data all come through here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import AuditAction, AuditEvent, User
from yixiang.accounts.scoping import can_assign_to
from yixiang.accounts.services import audit
from yixiang.customers import rules
from yixiang.customers.fields import mask_number
from yixiang.customers.models import (
    ArchiveSequence,
    ContactPerson,
    Customer,
    CustomerChange,
    Tag,
)
from yixiang.customers.scoping import visible_customers
from yixiang.errors import Conflict, DomainError, ValidationFailed

# Fields a user edits directly (forms, API, import). Owner, stage and tags have their own paths.
EDITABLE_FIELDS: tuple[str, ...] = (
    "kind", "name", "phone", "email", "wechat", "qq", "preferred_channel", "gender", "birth_date",
    "birthday_calendar", "occupation", "income", "family_situation", "family_supports", "personality",
    "hobbies", "special_days", "financial_situation", "funds_available", "region", "province", "city",
    "address", "source", "company_name", "industry", "company_size", "decision_maker", "key_people",
    "qualification", "bank_card", "id_number", "notes", "grade", "expected_sign_month", "value_tier",
)  # fmt: skip
SENSITIVE_FIELDS = frozenset({"bank_card", "id_number"})


def history_value(field: str, value: Any) -> Any:
    """How a field's value is kept in the history: sensitive numbers masked, other objects as text."""
    if field in SENSITIVE_FIELDS:
        return mask_number(value)
    if value is None or isinstance(value, (str, int, float, bool, list)):
        return value
    return str(value)


def _phone_key(phone: str, region: str | None = None) -> str | None:
    if not phone or not phone.strip():
        return None
    try:
        return rules.normalize_phone(phone, region or settings.YIXIANG["DEFAULT_PHONE_REGION"])
    except rules.PhoneError:
        raise ValidationFailed({"phone": [_("“%(phone)s” is not a valid phone number.") % {"phone": phone}]}) from None


HIDDEN_DUPLICATE = AuditAction.CUSTOMER_HIDDEN_DUPLICATE  # audit action; also the rate limit's counter


class HiddenDuplicate(Conflict):
    """The phone is a customer the caller may not see: said without naming it, and audited."""

    code = "duplicate_phone"

    def __init__(self, *, viewer: User | None, existing_pk: int):
        super().__init__(
            _(
                "This phone number already belongs to a customer of another rep, which you cannot see. "
                "Ask your team lead or an administrator."
            ),
            field="phone",
        )
        self.viewer = viewer
        self.existing_pk = existing_pk


class TooManyLookups(DomainError):
    status = 429
    code = "too_many_lookups"


def duplicate_phone_message(existing: Customer, viewer: User | None) -> str:
    """Names the existing record and its owner (for a viewer who may see that customer)."""
    owner = existing.owner.label if existing.owner_id else _("public pool")
    return _("This phone number already belongs to customer %(name)s (%(no)s, owner: %(owner)s).") % {
        "name": existing.name,
        "no": existing.archive_no,
        "owner": owner,
    }


def _check_lookup_allowance(viewer: User) -> None:
    """Refuse any phone check by a user who met too many hidden duplicates lately (counted from the
    audit rows, which every worker shares). Refusing them all, not just the hits, keeps the answer
    the same whether the number is taken or free."""
    cfg = settings.YIXIANG
    since = timezone.now() - dt.timedelta(minutes=cfg["HIDDEN_DUPLICATE_WINDOW_MINUTES"])
    if (
        AuditEvent.objects.filter(action=HIDDEN_DUPLICATE, actor=viewer, at__gte=since).count()
        >= cfg["HIDDEN_DUPLICATE_LIMIT"]
    ):
        raise TooManyLookups(
            _(
                "You have entered too many phone numbers that belong to other reps' customers. "
                "Try again in %(minutes)s minutes, or ask your team lead."
            )
            % {"minutes": cfg["HIDDEN_DUPLICATE_WINDOW_MINUTES"]}
        )


def _check_phone_free(key: str | None, *, viewer: User | None, exclude_pk: int | None = None) -> None:
    if key is None:
        return
    if viewer is not None:
        _check_lookup_allowance(viewer)
    qs = Customer.objects.filter(phone_normalized=key)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    existing = qs.select_related("owner").first()
    if existing is None:
        return
    if viewer is None or visible_customers(viewer).filter(pk=existing.pk).exists():
        raise Conflict(
            duplicate_phone_message(existing, viewer),
            code="duplicate_phone",
            field="phone",
            extra={"existing_id": existing.pk, "existing_archive_no": existing.archive_no},
        )
    raise HiddenDuplicate(viewer=viewer, existing_pk=existing.pk)


def _audits_lookups(service):
    """Outside the service's transaction (which the refusal rolls back): the audit rows of hidden
    duplicates and refused look-ups must stay, as they are the rate limit's counter."""

    @wraps(service)
    def wrapped(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except HiddenDuplicate as exc:
            audit(exc.viewer, HIDDEN_DUPLICATE, target_type="customer", target_id=str(exc.existing_pk))
            raise
        except TooManyLookups:
            audit(kwargs.get("actor"), AuditAction.CUSTOMER_LOOKUPS_REFUSED)
            raise

    return wrapped


def same_name_warning(name: str, *, viewer: User, exclude_pk: int | None = None) -> str | None:
    """A warning (never a refusal) when another visible record has the same name."""
    qs = visible_customers(viewer).filter(name=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    other = qs.first()
    if other is None:
        return None
    return _("Note: another customer is also named %(name)s (%(no)s).") % {"name": name, "no": other.archive_no}


def allocate_archive_numbers(count: int, *, today: dt.date | None = None) -> list[str]:
    """Reserve ``count`` consecutive archive numbers for this year."""
    today = today or timezone.localdate()
    key = str(today.year)
    with transaction.atomic():
        updated = ArchiveSequence.objects.filter(key=key).update(value=F("value") + count)
        if not updated:
            try:
                with transaction.atomic():
                    ArchiveSequence.objects.create(key=key, value=count)
            except IntegrityError:  # another writer created it first
                ArchiveSequence.objects.filter(key=key).update(value=F("value") + count)
        end = ArchiveSequence.objects.get(key=key).value
    fmt = settings.YIXIANG["ARCHIVE_NO_FORMAT"]
    return [rules.format_archive_no(fmt, year=today.year, seq=s) for s in range(end - count + 1, end + 1)]


def _clean(field: str, value: Any) -> Any:
    """A field's value as stored: text trimmed, bank card and ID numbers without spaces."""
    if field == "qualification" and rules.too_many(value, rules.MAX_QUALIFICATION_ITEMS):
        raise ValidationFailed(
            {field: [_("At most %(n)s qualification items.") % {"n": rules.MAX_QUALIFICATION_ITEMS}]}
        )
    if isinstance(value, str):
        return "".join(value.split()) if field in SENSITIVE_FIELDS else value.strip()
    return value


def _apply_fields(customer: Customer, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    diff: dict[str, list[Any]] = {}
    for field, value in data.items():
        if field not in EDITABLE_FIELDS:
            continue
        value = _clean(field, value)
        old = getattr(customer, field)
        if field == "region":
            old_cmp = customer.region_id
            new_cmp = value.pk if value is not None else None
        else:
            old_cmp, new_cmp = old, value
        if old_cmp != new_cmp:
            setattr(customer, field, value)
            diff[field] = [history_value(field, old), history_value(field, value)]
    if "name" in diff:
        customer.name_pinyin, customer.name_initials = rules.pinyin_keys(customer.name)
    return diff


@dataclass(slots=True)
class CustomerDraft:
    """A new customer's stored values (model attribute names) and its creation history."""

    values: dict[str, Any]
    history: dict[str, list[Any]]  # {field: [default, new]}, as every history row is shaped


# A new customer's value of each editable field before anything is set (its model default).
_NEW_VALUES: dict[str, Any] = {
    f.name: f.get_default() for f in Customer._meta.concrete_fields if f.name in EDITABLE_FIELDS
}


# Looked up per field of every imported row: a set, and the defaults' history form worked out once.
_EDITABLE = frozenset(EDITABLE_FIELDS)
_NEW_HISTORY: dict[str, Any] = {f: history_value(f, v) for f, v in _NEW_VALUES.items()}


def customer_prepare(data: Mapping[str, Any], *, phone_region: str, phone_key: str | None = None) -> CustomerDraft:
    """The one rule for a new customer's values, whoever creates it (form, API, import).

    Text trimmed, bank card and ID numbers without spaces, the phone's normalised key (the dedupe
    key) with the phone in its display form, the name's pinyin keys, and the history of what was
    set. Pure: reads no database; ``region`` is a Region instance (or None). Raises
    ValidationFailed for a missing name, a phone that is no phone, too many qualification items.
    ``phone_key``: the key of ``data["phone"]`` when the caller has already normalised it (the
    importer checks every phone first), so it is not worked out twice."""
    values: dict[str, Any] = {}
    history: dict[str, list[Any]] = {}
    for field, value in data.items():
        if field not in _EDITABLE:
            continue
        # Plain text (most of an imported row) takes the short way; the rule is _clean's.
        if type(value) is str and field not in SENSITIVE_FIELDS:
            value = value.strip()
            if value != _NEW_VALUES[field]:
                values[field] = value
                history[field] = [_NEW_HISTORY[field], value]
            continue
        value = _clean(field, value)
        if field == "region":
            if value is not None:
                values["region_id"] = value.pk
                history["region"] = [None, history_value(field, value)]
            continue
        if value != _NEW_VALUES[field]:
            values[field] = value
            history[field] = [_NEW_HISTORY[field], history_value(field, value)]
    name = values.get("name")
    if not name:
        raise ValidationFailed({"name": [_("The name is required.")]})
    key = (
        phone_key
        if phone_key is not None and values.get("phone")
        else _phone_key(values.get("phone", ""), phone_region)
    )
    if key:
        values["phone_normalized"] = key
        values["phone"] = history["phone"][1] = rules.display_phone(key)
    values["name_pinyin"], values["name_initials"] = rules.pinyin_keys(name)
    return CustomerDraft(values=values, history=history)


def _validate_required(customer: Customer) -> None:
    if not customer.name or not customer.name.strip():
        raise ValidationFailed({"name": [_("The name is required.")]})


def _set_tags(customer: Customer, names: Iterable[str]) -> tuple[list[str], list[str]]:
    wanted = sorted({n.strip() for n in names if n and n.strip()})
    if rules.too_many(wanted, rules.MAX_TAGS):
        raise ValidationFailed({"tags": [_("A customer has at most %(n)s tags.") % {"n": rules.MAX_TAGS}]})
    for n in wanted:
        if len(n) > 50:
            raise ValidationFailed({"tags": [_("A tag is at most 50 characters.")]})
    old = sorted(customer.tags.values_list("name", flat=True))
    if old == wanted:
        return old, wanted
    tags = [Tag.objects.get_or_create(name=n)[0] for n in wanted]
    customer.tags.set(tags)
    return old, wanted


@_audits_lookups
@transaction.atomic
def customer_create(
    *,
    actor: User,
    data: Mapping[str, Any],
    owner: User | None = None,
    tags: Iterable[str] = (),
    contacts: Iterable[Mapping[str, Any]] = (),
    action: str = CustomerChange.Action.CREATE,
) -> Customer:
    """Create a customer owned by ``owner`` (default: the actor; None for the public pool if allowed)."""
    if owner is not None and owner.pk != actor.pk and not can_assign_to(actor, owner):
        raise DomainError(_("You cannot assign customers to %(user)s.") % {"user": owner.label})
    contacts = list(contacts)
    if rules.too_many(contacts, rules.MAX_CONTACTS):
        raise ValidationFailed({"contacts": [_("A customer has at most %(n)s contacts.") % {"n": rules.MAX_CONTACTS}]})
    draft = customer_prepare(data, phone_region=settings.YIXIANG["DEFAULT_PHONE_REGION"])
    _check_phone_free(draft.values.get("phone_normalized"), viewer=actor)
    customer = Customer(owner=owner, created_by=actor, **draft.values)
    if data.get("region") is not None:
        customer.region = data["region"]  # the instance the caller holds: no query to read it back
    diff = draft.history
    customer.archive_no = allocate_archive_numbers(1)[0]
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:  # a concurrent insert took the phone between check and save
        _check_phone_free(customer.phone_normalized, viewer=actor)
        raise
    new_tags = _set_tags(customer, tags)[1]
    if new_tags:
        diff["tags"] = [[], new_tags]
    for c in contacts:
        ContactPerson.objects.create(customer=customer, **_contact_fields(c))
    diff["owner"] = [None, owner.label if owner else None]
    CustomerChange.objects.create(customer=customer, actor=actor, action=action, changes=diff)
    return customer


def _lock(customer: Customer) -> Customer:
    # NO KEY: writers of this customer take turns, but rows that merely point at it (a follow-up,
    # a referral) may still be committed by others meanwhile — see pipeline.pool.serialise_rep.
    return Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)


@_audits_lookups
@transaction.atomic
def customer_update(
    *,
    actor: User,
    customer: Customer,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    tags: Iterable[str] | None = None,
) -> Customer:
    """Change a customer's fields. ``expected_version`` guards against silent lost updates."""
    current = _lock(customer)
    if expected_version is not None and current.version != expected_version:
        raise Conflict(
            _(
                "Someone else changed this customer meanwhile (version %(now)s, you edited %(was)s). "
                "Reload and apply your change again."
            )
            % {"now": current.version, "was": expected_version},
            code="stale_version",
        )
    diff = _apply_fields(current, data)
    _validate_required(current)
    if "phone" in diff:
        current.phone_normalized = _phone_key(current.phone)
        _check_phone_free(current.phone_normalized, viewer=actor, exclude_pk=current.pk)
        if current.phone_normalized:
            current.phone = rules.display_phone(current.phone_normalized)
            diff["phone"][1] = current.phone
            if diff["phone"][0] == diff["phone"][1]:
                del diff["phone"]
    if tags is not None:
        old, new = _set_tags(current, tags)
        if old != new:
            diff["tags"] = [old, new]
    if diff:
        current.version += 1
        current.updated_at = timezone.now()
        current.save()
        CustomerChange.objects.create(customer=current, actor=actor, action=CustomerChange.Action.UPDATE, changes=diff)
    return current


@transaction.atomic
def customer_set_tags(*, actor: User, customer: Customer, tags: Iterable[str]) -> Customer:
    current = _lock(customer)
    old, new = _set_tags(current, tags)
    if old != new:
        Customer.objects.filter(pk=current.pk).update(version=F("version") + 1, updated_at=timezone.now())
        CustomerChange.objects.create(
            customer=current, actor=actor, action=CustomerChange.Action.TAGS, changes={"tags": [old, new]}
        )
        current.refresh_from_db()
    return current


@transaction.atomic
def customer_soft_delete(*, actor: User, customer: Customer) -> Customer:
    current = _lock(customer)
    if current.deleted_at is None:
        current.deleted_at = timezone.now()
        current.version += 1
        current.save(update_fields=["deleted_at", "version"])
        CustomerChange.objects.create(customer=current, actor=actor, action=CustomerChange.Action.DELETE)
    return current


@transaction.atomic
def customer_restore(*, actor: User, customer: Customer) -> Customer:
    current = _lock(customer)
    if current.deleted_at is not None:
        current.deleted_at = None
        current.version += 1
        current.save(update_fields=["deleted_at", "version"])
        CustomerChange.objects.create(customer=current, actor=actor, action=CustomerChange.Action.RESTORE)
    return current


def customer_unmask(*, actor: User, customer: Customer) -> dict[str, str]:
    """The sensitive fields in full, for users with the permission; every look is logged."""
    if not actor.may_unmask:
        raise DomainError(_("You do not have permission to view full bank card and ID numbers."), code="forbidden")
    with transaction.atomic():
        CustomerChange.objects.create(
            customer=customer,
            actor=actor,
            action=CustomerChange.Action.UNMASK,
            changes={"fields": ["bank_card", "id_number"]},
        )
        audit(actor, AuditAction.CUSTOMER_UNMASK, target=customer)
    return {"bank_card": customer.bank_card or "", "id_number": customer.id_number or ""}


def _contact_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    allowed = ("name", "title", "phone", "email", "wechat", "is_decision_maker", "notes")
    out = {k: data[k] for k in allowed if k in data and data[k] is not None}
    if not str(out.get("name", "")).strip():
        raise ValidationFailed({"contacts": [_("A contact person needs a name.")]})
    return out


@transaction.atomic
def contact_add(*, actor: User, customer: Customer, data: Mapping[str, Any]) -> ContactPerson:
    if customer.contacts.count() >= rules.MAX_CONTACTS:
        raise ValidationFailed({"contacts": [_("A customer has at most %(n)s contacts.") % {"n": rules.MAX_CONTACTS}]})
    contact = ContactPerson.objects.create(customer=customer, **_contact_fields(data))
    CustomerChange.objects.create(
        customer=customer, actor=actor, action=CustomerChange.Action.CONTACTS, changes={"added": contact.name}
    )
    return contact


@transaction.atomic
def contact_remove(*, actor: User, customer: Customer, contact_id: int) -> None:
    contact = customer.contacts.filter(pk=contact_id).first()
    if contact is None:
        return
    name = contact.name
    contact.delete()
    CustomerChange.objects.create(
        customer=customer, actor=actor, action=CustomerChange.Action.CONTACTS, changes={"removed": name}
    )
