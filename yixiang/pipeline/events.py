"""What the pipeline tells the apps above it, so that they listen instead of the pipeline calling them.

The pipeline sits below aftercare and incentives and imports neither. A signing is announced as a
``CustomerSigned`` event once the transaction commits (a rolled-back signing announces nothing);
apps connect their receivers in ``AppConfig.ready``. The same moments go to the administrator's
webhooks (``accounts.webhooks``, queued in the write's transaction, sent after commit). The agenda asks the apps above for extra items
(aftercare's care tasks) through ``agenda_sources``, and the sign page and API record the deal
through the handler aftercare registers (``sign_customer``), in the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from yixiang.accounts import webhooks
from yixiang.accounts.models import User, WebhookEvent

# Sent with ``event=CustomerSigned(...)`` after the signing transaction committed.
customer_signed = Signal()


@dataclass(frozen=True)
class CustomerSigned:
    customer_id: int
    actor_id: int
    signed_on: dt.date


def emit_customer_signed(*, customer_id: int, actor_id: int, signed_on: dt.date) -> None:
    event = CustomerSigned(customer_id=customer_id, actor_id=actor_id, signed_on=signed_on)
    # robust: a failing listener is logged by Django's dispatcher and does not undo the signing,
    # which has already committed; the daily after-sale run catches up what a listener missed.
    transaction.on_commit(lambda: customer_signed.send_robust(sender=CustomerSigned, event=event))


def user_ref(user: User | None) -> dict[str, Any] | None:
    """How a webhook names a person: id and username (None for the system or the pool)."""
    return {"id": user.pk, "username": user.username} if user else None


def customer_ref(customer: Any, *, owner: User | None = None) -> dict[str, Any]:
    """How a webhook names a customer: id, name, stage and the owner (None in the pool)."""
    owner = owner if owner is not None else customer.owner
    return {
        "id": customer.pk,
        "name": customer.name,
        "stage": customer.stage,
        "owner": user_ref(owner),
    }


def hook(event: WebhookEvent, data: dict[str, Any]) -> None:
    """Queue a webhook event with the caller's write (nothing, and one small query, if no one listens)."""
    webhooks.emit(event, data)


# Sent with ``event=ReferralAsked(...)`` when a follow-up's after-sale checklist ticks "referral
# asked"; aftercare records a referral ask linked to the follow-up. Sent inside the follow-up's
# transaction, so the two rows are written together or not at all.
referral_asked = Signal()


@dataclass(frozen=True)
class ReferralAsked:
    follow_up_id: int
    customer_id: int
    rep_id: int


def emit_referral_asked(*, follow_up_id: int, customer_id: int, rep_id: int) -> None:
    referral_asked.send(
        sender=ReferralAsked, event=ReferralAsked(follow_up_id=follow_up_id, customer_id=customer_id, rep_id=rep_id)
    )


# The deal of a signing (contract, payment) is recorded by the app that keeps contracts (aftercare's
# ``services_contracts.customer_sign``, which marks the stage through ``services.customer_mark_signed``).
# It registers itself in its ``AppConfig.ready``; the pipeline's sign page and API call it here.
_sign_handlers: list[Callable[..., Any]] = []


def set_sign_handler(handler: Callable[..., Any]) -> None:
    _sign_handlers[:] = [handler]


def sign_customer(**kwargs: Any) -> Any:
    """Sign a customer through the registered handler; returns what it returns (the contract)."""
    return _sign_handlers[0](**kwargs)


# ``(user=, day=) -> dict rows`` added to the day's agenda by apps above the pipeline.
AgendaSource = Callable[..., Iterable[dict[str, Any]]]
agenda_sources: list[AgendaSource] = []


def add_agenda_source(source: AgendaSource) -> None:
    if source not in agenda_sources:
        agenda_sources.append(source)
