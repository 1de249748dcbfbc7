"""Money actions that can be taken back: a payout marked paid (已返款) and a payment recorded.

The person who did it may undo it for ``UNDO_MINUTES`` (a setting, 10 by default); after that, or
for anyone else, the write stands. Both the undoable write and the undo leave an AuditEvent, so the
trail shows what was reversed, by whom and when. A module of its own so the contract services stay
as they are."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import AuditAction, AuditEvent, User
from yixiang.accounts.services import audit
from yixiang.aftercare import services_contracts as services
from yixiang.aftercare.conf import conf
from yixiang.aftercare.models import CareTask, Payment, Payout
from yixiang.errors import DomainError

UNDO_NOT_YOURS = "undo_not_yours"
UNDO_TOO_LATE = "undo_too_late"
UNDO_NOTHING = "undo_nothing"


def undo_refusal(
    *, actor_id: int, done_by_id: int | None, done_at: dt.datetime | None, now: dt.datetime, minutes: int
) -> str | None:
    """Why an undo is refused, or None: only the same person, only within the window."""
    if done_at is None:
        return UNDO_NOTHING
    if done_by_id != actor_id:
        return UNDO_NOT_YOURS
    if now - done_at > dt.timedelta(minutes=minutes):
        return UNDO_TOO_LATE
    return None


def _refusal_message(code: str) -> str:
    if code == UNDO_NOT_YOURS:
        return _("Only the person who did this can undo it.")
    if code == UNDO_TOO_LATE:
        return _("Too late to undo: that was more than %(n)s minutes ago.") % {"n": conf("UNDO_MINUTES")}
    return _("There is nothing to undo.")


def _refuse(actor: User, done_by_id: int | None, done_at: dt.datetime | None, now: dt.datetime) -> None:
    refusal = undo_refusal(
        actor_id=actor.pk, done_by_id=done_by_id, done_at=done_at, now=now, minutes=conf("UNDO_MINUTES")
    )
    if refusal:
        raise DomainError(_refusal_message(refusal), code=refusal)


def _window_start(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=conf("UNDO_MINUTES"))


# --- Payout paid --------------------------------------------------------------------------------


@transaction.atomic
def payout_mark_paid_undoable(*, actor: User, payout: Payout, paid_on: dt.date | None = None) -> Payout:
    """Mark a payout paid as ``services.payout_mark_paid`` does, remembering what it was before."""
    before = Payout.objects.select_for_update().get(pk=payout.pk)
    if before.status == Payout.Status.PAID:
        raise DomainError(_("This payout is already marked paid."), code="already_paid")
    closing = list(
        CareTask.objects.filter(source_key=f"payout-notice:{payout.pk}", done_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    paid = services.payout_mark_paid(actor=actor, payout=before, paid_on=paid_on)
    # The service audited the write; its row also keeps what an undo restores.
    row = AuditEvent.objects.filter(
        action=AuditAction.PAYOUT_PAID, target_type="payout", target_id=str(payout.pk)
    ).latest("pk")
    row.detail = {**(row.detail or {}), "status_before": before.status, "closed_tasks": closing}
    row.save(update_fields=["detail"])
    return paid


def _last_paid_event(payout_id: int) -> AuditEvent | None:
    """The latest mark-paid of this payout, unless an undo came after it."""
    last = (
        AuditEvent.objects.filter(
            target_type="payout",
            target_id=str(payout_id),
            action__in=[AuditAction.PAYOUT_PAID, AuditAction.PAYOUT_PAID_UNDO],
        )
        .order_by("-at", "-id")
        .first()
    )
    return last if last is not None and last.action == AuditAction.PAYOUT_PAID else None


@transaction.atomic
def payout_paid_undo(*, actor: User, payout: Payout, now: dt.datetime | None = None) -> Payout:
    """Put a payout back as it was before it was marked paid, and reopen the notice it closed."""
    now = now or timezone.now()
    current = Payout.objects.select_for_update().get(pk=payout.pk)
    event = _last_paid_event(current.pk) if current.status == Payout.Status.PAID else None
    _refuse(actor, event.actor_id if event else None, event.at if event else None, now)
    assert event is not None
    current.status = event.detail.get("status_before") or Payout.Status.SCHEDULED
    current.paid_on = None
    current.save(update_fields=["status", "paid_on"])
    CareTask.objects.filter(pk__in=event.detail.get("closed_tasks", []), done_by=actor).update(
        done_at=None, done_by=None, outcome=""
    )
    audit(
        actor,
        AuditAction.PAYOUT_PAID_UNDO,
        target=current,
        paid_on=event.detail.get("paid_on"),
        status_after=current.status,
        marked_at=event.at.isoformat(),
    )
    return current


def undoable_payouts(*, user: User, payout_ids: list[int], now: dt.datetime | None = None) -> set[int]:
    """Of these payouts, the ones ``user`` marked paid within the window and may still undo."""
    now = now or timezone.now()
    events = AuditEvent.objects.filter(
        target_type="payout",
        target_id__in=[str(i) for i in payout_ids],
        action__in=[AuditAction.PAYOUT_PAID, AuditAction.PAYOUT_PAID_UNDO],
        at__gte=_window_start(now),
    ).order_by("at", "id")
    last: dict[str, AuditEvent] = {}
    for e in events:
        last[e.target_id] = e
    return {int(t) for t, e in last.items() if e.action == AuditAction.PAYOUT_PAID and e.actor_id == user.pk}


# --- Payment recorded ---------------------------------------------------------------------------


@transaction.atomic
def payment_record_undo(*, actor: User, payment: Payment, now: dt.datetime | None = None) -> None:
    """Remove a payment its recorder entered by mistake a moment ago; the audit keeps what it said."""
    now = now or timezone.now()
    current = Payment.objects.select_for_update().filter(pk=payment.pk).first()
    _refuse(actor, current.recorded_by_id if current else None, current.created_at if current else None, now)
    assert current is not None
    audit(
        actor,
        AuditAction.PAYMENT_UNDO,
        target=current,
        customer=current.customer_id,
        contract=current.contract_id,
        amount=str(current.amount),
        paid_on=current.paid_on.isoformat(),
        category=current.category,
        note=current.note,
        recorded_at=current.created_at.isoformat(),
    )
    current.delete()


def undoable_payments(*, user: User, payments: list[Payment], now: dt.datetime | None = None) -> set[int]:
    now = now or timezone.now()
    start = _window_start(now)
    return {p.pk for p in payments if p.recorded_by_id == user.pk and p.created_at >= start}
