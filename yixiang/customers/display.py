"""Turn customer fields and history rows into readable text in the user's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.customers import rules
from yixiang.customers.models import Customer, CustomerChange, Stage
from yixiang.customers.selectors import customer_history

SENSITIVE = {"bank_card": "bank_card_masked", "id_number": "id_number_masked"}
# History keys that are not model fields.
_EXTRA_LABELS = {
    "tags": lambda: _("Tags"),
    "owner": lambda: _("Owner"),
    "reason": lambda: _("Reason"),
    "added": lambda: _("Contact added"),
    "removed": lambda: _("Contact removed"),
    "fields": lambda: _("Fields viewed"),
}


_SOURCES = {
    "followup": lambda: _("Follow-up logged"),
    "sign": lambda: _("Signed"),
}


def field_label(name: str) -> str:
    if name in _EXTRA_LABELS:
        return str(_EXTRA_LABELS[name]())
    try:
        label = str(Customer._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name
    return label[:1].upper() + label[1:]


def qualification_labels(kind: str, codes: list[str]) -> list[str]:
    items = dict(rules.QUALIFICATION_ITEMS.get(kind) or rules.QUALIFICATION_ITEMS["individual"])
    return [items.get(code, code) for code in codes or []]


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def format_value(name: str, value: Any, *, kind: str = "individual") -> str:
    """A stored value (current or from history) as text: choice labels, dates, money, lists."""
    if value is None or value == "" or value == []:
        return ""
    if name == "qualification" and isinstance(value, list):
        return "、".join(qualification_labels(kind, value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return _yes_no(value)
    try:
        model_field = Customer._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    if model_field.choices:
        for code, label in model_field.flatchoices:
            if str(code) == str(value):
                return str(label)
        return str(value)
    internal = model_field.get_internal_type()
    if internal == "DateField":
        date = _as_date(value)
        if date is None:
            return str(value)
        if name == "expected_sign_month":
            return date_format(date, "YEAR_MONTH_FORMAT")
        return date_format(date, "DATE_FORMAT")
    if internal == "DecimalField":
        try:
            return f"{Decimal(str(value)):,.2f}"
        except InvalidOperation:
            return str(value)
    if internal == "BooleanField":
        return _yes_no(value)
    return str(value)


def field_value(customer: Customer, name: str) -> str:
    """The displayed value of a customer's field; sensitive numbers always masked."""
    if name in SENSITIVE:
        return getattr(customer, SENSITIVE[name])
    if name == "region":
        return str(customer.region) if customer.region_id else ""
    return format_value(name, getattr(customer, name), kind=customer.kind)


@dataclass
class ChangeLine:
    label: str
    old: str = ""
    new: str = ""
    text: str = ""


@dataclass
class ChangeView:
    at: dt.datetime
    actor: User | None
    action: str
    lines: list[ChangeLine] = field(default_factory=list)


# Owner changes are the pipeline's record (its OwnerChange rows) and their reasons its vocabulary:
# it registers the reader and the words at start-up (pipeline/apps.py), so the archive's timeline
# shows them without importing a floor above it. A reader gives (customer, limit) → newest first.
RELEASE_REASON_WORDS: dict[str, Any] = {}
OWNER_CHANGE_WORDS: dict[str, Any] = {}
OWNER_HISTORY: list[Callable[[Customer, int], list[ChangeView]]] = []


def _reason_line(code: str) -> ChangeLine:
    """An owner change's stored reason code ("release:no_rise", "recycle:overdue", "claim") in words:
    the next owner reads why the customer was let go, not a code."""
    kind, _sep, detail = str(code).partition(":")
    if kind == "release":
        return ChangeLine(label=_("Release reason"), text=str(RELEASE_REASON_WORDS.get(detail, detail)))
    if kind == "recycle":
        why = {"overdue": _("not contacted in time"), "held_too_long": _("held too long without signing")}
        return ChangeLine(label=_("Recycled to the pool"), text=str(why.get(detail, detail)))
    return ChangeLine(label=_("Reason"), text=str(OWNER_CHANGE_WORDS.get(kind, code)))


def _owner_text(value: Any) -> str:
    return str(value) if value else _("Public pool")


def describe_change(change: CustomerChange, *, kind: str = "individual") -> ChangeView:
    """One history row as an action label and readable 'field: old → new' lines."""
    view = ChangeView(at=change.at, actor=change.actor, action=change.get_action_display())
    data = change.changes if isinstance(change.changes, dict) else {}
    # "source" is two things: a follow-up's or a deal's marker (a string), or the archive's own
    # 来源 field edited ([old, new]: a list, which crashed the lookup and the customer page 500'd).
    marker = data.get("source")
    if isinstance(marker, str) and marker in _SOURCES:  # written by a follow-up or a deal
        view.action = str(_SOURCES[marker]())
    for key, value in data.items():
        label = field_label(key)
        if key == "source" and not isinstance(value, list):
            continue
        if key == "owner" and isinstance(value, list) and len(value) == 2:
            view.lines.append(ChangeLine(label=label, old=_owner_text(value[0]), new=_owner_text(value[1])))
        elif key == "fields" and isinstance(value, list):
            view.lines.append(ChangeLine(label=label, text="、".join(field_label(v) for v in value)))
        elif isinstance(value, list) and len(value) == 2:  # [old, new]
            old, new = value
            view.lines.append(
                ChangeLine(label=label, old=format_value(key, old, kind=kind), new=format_value(key, new, kind=kind))
            )
        else:
            view.lines.append(ChangeLine(label=label, text=format_value(key, value, kind=kind)))
    return view


def describe_owner_change(*, at: dt.datetime, actor: User | None, old: str, new: str, reason: str) -> ChangeView:
    """An owner change as the timeline shows it: old → new owner ("" is the pool) and the reason
    code ("release:no_rise", "recycle:overdue", "claim") in words."""
    lines = [ChangeLine(label=field_label("owner"), old=_owner_text(old), new=_owner_text(new)), _reason_line(reason)]
    return ChangeView(at=at, actor=actor, action=str(CustomerChange.Action.OWNER.label), lines=lines)


def timeline(customer: Customer, limit: int) -> list[ChangeView]:
    """The customer's newest ``limit`` history entries: archive changes and owner changes, described."""
    views = [describe_change(c, kind=customer.kind) for c in customer_history(customer=customer, limit=limit)]
    for read in OWNER_HISTORY:
        views += read(customer, limit)
    views.sort(key=lambda v: v.at, reverse=True)  # stable: equal times keep each source's order
    return views[:limit]


def stage_badge(stage: int | None) -> str:
    """A coloured badge for an intent stage; colours go from grey (rejecting) to green (signed)."""
    if stage is None:
        return ""
    try:
        label = Stage(stage).label
    except ValueError:
        return ""
    css = "signed" if stage == Stage.SIGNED else ("rejecting" if stage == Stage.REJECTING else str(stage))
    return format_html('<span class="badge stage stage-{}">{}</span>', css, label)
