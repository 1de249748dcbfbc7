"""The one delivery state machine: pending → sending → sent / failed (retried while attempts are
left) / unknown (in doubt). Every state change is its own conditional UPDATE and commit, so a crash
leaves a row in a state the next run understands and nothing is sent twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

SENDING = "sending"


def claim(
    model: type[models.Model],
    pk: int,
    *,
    statuses: Iterable[str],
    max_attempts: int | None = None,
    now: dt.datetime | None = None,
    where: Q | None = None,
) -> bool:
    """Take a row for sending: one of ``statuses`` → sending, in one UPDATE. The UPDATE is the lock:
    of two workers racing for the same row exactly one sees ``1``. ``where`` narrows it further
    (a webhook delivery whose next attempt is due)."""
    qs = model._default_manager.filter(pk=pk, status__in=list(statuses))
    if where is not None:
        qs = qs.filter(where)
    if max_attempts is not None:
        qs = qs.filter(attempts__lt=max_attempts)
    return bool(qs.update(status=SENDING, claimed_at=now or timezone.now(), attempts=F("attempts") + 1))


def finish(model: type[models.Model], pk: int, status: str, *, error: str = "", **fields: Any) -> bool:
    """Record how a claimed row's sending went; only a row still "sending" changes."""
    return bool(model._default_manager.filter(pk=pk, status=SENDING).update(status=status, error=error[:300], **fields))
