"""Writes to the statutory calendar (administrators only): enter or correct a day, remove one.

Due dates already stored keep their day; the next contact logged reads the edited calendar."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yixiang.accounts.models import AuditAction, User
from yixiang.accounts.services import audit
from yixiang.errors import DomainError, ValidationFailed
from yixiang.pipeline.models import HolidayDay, HolidayKind


def _require_admin(actor: User) -> None:
    if not actor.is_admin_role:
        raise DomainError(_("Only an administrator edits the statutory calendar."), code="forbidden")


@transaction.atomic
def holiday_day_save(*, actor: User, day: dt.date, kind: str, name: str = "") -> HolidayDay:
    """Mark ``day`` as a statutory day off or a make-up working day (replacing what it was)."""
    _require_admin(actor)
    if kind not in HolidayKind.values:
        raise ValidationFailed({"kind": [_("Choose a day off or a make-up working day.")]})
    entry = HolidayDay.objects.filter(date=day).first() or HolidayDay(date=day)
    entry.kind, entry.name = kind, (name or "").strip()[:40]
    try:
        entry.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ValidationFailed({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from None
    entry.save()
    audit(actor, AuditAction.HOLIDAY_SAVE, target_type="holiday", target_id=day.isoformat(), kind=kind, name=entry.name)
    return entry


@transaction.atomic
def holiday_day_remove(*, actor: User, day: dt.date) -> bool:
    """Make ``day`` an ordinary day again (a weekday works, a weekend is off)."""
    _require_admin(actor)
    removed, _count = HolidayDay.objects.filter(date=day).delete()
    if removed:
        audit(actor, AuditAction.HOLIDAY_REMOVE, target_type="holiday", target_id=day.isoformat())
    return bool(removed)
