"""The administrator's webhooks: endpoints (audited writes), events queued with the business write,
and their delivery through the outbox's state machine (docs/API.md "Webhooks").

* ``emit`` / ``emit_many`` — called by the services where an event happens (pipeline, aftercare),
  inside their transaction. The delivery rows commit or roll back with the business write; the
  worker is woken on commit. With no subscribed endpoint it costs one query on a tiny table.
* ``delivery_attempt`` — one attempt at one row: claimed with the outbox's conditional UPDATE
  (two workers racing for a row: one sends, the other sees 0 rows), signed, POSTed, finished.
* ``retry_run`` — the periodic job: due retries, and rows whose worker died mid-send.

Delivery is at least once: a timeout or a worker lost mid-send leaves us unable to tell whether
the receiver got the body, so it is tried again with the same delivery id, which receivers use to
drop a repeat. It is never sent again once a 2xx was recorded, nor by two workers at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import (
    WEBHOOK_TEST_EVENT,
    AuditAction,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from yixiang.accounts.services import audit
from yixiang.accounts.services_org import require_admin
from yixiang.errors import Conflict, ValidationFailed
from yixiang.outbox import delivery, rules, senders
from yixiang.outbox.senders import PermanentFailure

log = logging.getLogger(__name__)

# Sent with ``delivery_ids=[...]`` after the transaction that queued them committed; the Huey task
# in accounts/tasks.py listens (a signal, so this module does not import the task module).
deliveries_queued = Signal()

TIMEOUT_SECONDS = 10.0
# A row "sending" for longer than this lost its worker (the POST itself times out after 10 s).
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
RETRY_BATCH = 200
USER_AGENT = "Yixiang-Webhooks/1"
Status = WebhookDelivery.Status


# --------------------------------------------------------------------------- events


def emit(event: str, data: Mapping[str, Any], *, occurred_at: dt.datetime | None = None) -> int:
    """Queue ``event`` for every active endpoint subscribed to it; returns how many rows were queued."""
    return emit_many(event, [data], occurred_at=occurred_at)


def emit_many(event: str, items: Iterable[Mapping[str, Any]], *, occurred_at: dt.datetime | None = None) -> int:
    """One event per item (a nightly batch of releases): still one endpoint query for all of them."""
    # events is a JSON list and SQLite cannot look inside it: the few endpoints are filtered here.
    targets = [
        pk
        for pk, events in WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "events")
        if event in events
    ]
    if not targets:
        return 0
    occurred_at = occurred_at or timezone.now()
    rows = [_row(endpoint_id, event, data, occurred_at) for data in items for endpoint_id in targets]
    return len(_queue(rows))


def _row(endpoint_id: int, event: str, data: Mapping[str, Any], occurred_at: dt.datetime) -> WebhookDelivery:
    delivery_id = uuid.uuid4()
    when = timezone.localtime(occurred_at).isoformat()  # the site's offset (+08:00), as the UI shows it
    payload = {"id": str(delivery_id), "event": event, "occurred_at": when, "data": dict(data)}
    return WebhookDelivery(
        uuid=delivery_id,
        endpoint_id=endpoint_id,
        event=event,
        body=json.dumps(payload, ensure_ascii=False, cls=DjangoJSONEncoder, separators=(",", ":")),
        next_attempt_at=occurred_at,
    )


def _queue(rows: list[WebhookDelivery]) -> list[WebhookDelivery]:
    if not rows:
        return rows
    # bulk_create returns the ids on PostgreSQL and on SQLite ≥ 3.35 (RETURNING).
    created = WebhookDelivery.objects.bulk_create(rows)
    ids = [r.pk for r in created]
    transaction.on_commit(lambda: deliveries_queued.send_robust(sender=WebhookDelivery, delivery_ids=ids))
    return created


# --------------------------------------------------------------------------- endpoints (admin)


def _clean(
    *, url: str | None, events: Iterable[str] | None, secret: str | None, description: str | None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if url is not None:
        url = url.strip()
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
            errors["url"] = [_("Enter a full http:// or https:// address.")]
        out["url"] = url
    if events is not None:
        names = list(dict.fromkeys(events))
        unknown = [e for e in names if e not in WebhookEvent.values]
        if unknown or not names:
            errors["events"] = [_("Choose one or more of: %(events)s.") % {"events": ", ".join(WebhookEvent.values)}]
        out["events"] = names
    if secret is not None:
        if len(secret) < 16 or secret != secret.strip():
            errors["secret"] = [_("The secret is at least 16 characters, without spaces around it.")]
        out["secret"] = secret
    if description is not None:
        out["description"] = description.strip()[:200]
    if errors:
        raise ValidationFailed(errors)
    return out


@transaction.atomic
def endpoint_create(
    *,
    actor: User,
    url: str,
    events: Iterable[str],
    secret: str = "",
    is_active: bool = True,
    description: str = "",
) -> WebhookEndpoint:
    """Register a URL; an empty secret gets a random one (shown to the administrator once)."""
    require_admin(actor)
    data = _clean(url=url, events=events, secret=secret or None, description=description)
    endpoint = WebhookEndpoint.objects.create(
        secret=data.pop("secret", None) or secrets.token_urlsafe(32), is_active=is_active, created_by=actor, **data
    )
    audit(actor, AuditAction.WEBHOOK_CREATE, target=endpoint, url=endpoint.url, events=endpoint.events,
          is_active=is_active)  # fmt: skip
    return endpoint


@transaction.atomic
def endpoint_update(*, actor: User, endpoint: WebhookEndpoint, changes: Mapping[str, Any]) -> WebhookEndpoint:
    """Change url, events, secret, description or is_active; the audit row keeps old and new values
    (never the secret itself). Turning an endpoint back on clears why it was disabled."""
    require_admin(actor)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    data = _clean(
        url=changes.get("url"), events=changes.get("events"), secret=changes.get("secret"),
        description=changes.get("description"),
    )  # fmt: skip
    if changes.get("is_active") is not None:
        data["is_active"] = bool(changes["is_active"])
        if data["is_active"]:
            data["disabled_reason"] = ""
    diff: dict[str, Any] = {}
    for field, value in data.items():
        if getattr(endpoint, field) != value:
            diff[field] = "changed" if field == "secret" else [getattr(endpoint, field), value]
            setattr(endpoint, field, value)
    if diff:
        endpoint.updated_at = timezone.now()
        endpoint.save()
        audit(actor, AuditAction.WEBHOOK_UPDATE, target=endpoint, changes=diff)
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log (the audit row keeps what it was)."""
    require_admin(actor)
    audit(actor, AuditAction.WEBHOOK_DELETE, target=endpoint, url=endpoint.url, events=endpoint.events)
    endpoint.delete()


@transaction.atomic
def endpoint_send_test(*, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this endpoint alone (sent on commit like any other)."""
    require_admin(actor)
    if not endpoint.is_active:
        raise Conflict(_("This webhook is switched off: switch it on before sending a test."), code="inactive")
    row = _row(endpoint.pk, WEBHOOK_TEST_EVENT, {"endpoint_id": endpoint.pk, "requested_by": actor.username},
               timezone.now())  # fmt: skip
    (row,) = _queue([row])
    audit(actor, AuditAction.WEBHOOK_TEST, target=endpoint, delivery=str(row.uuid))
    return row


# --------------------------------------------------------------------------- delivery


def headers_for(row: WebhookDelivery, secret: str, *, timestamp: int) -> dict[str, str]:
    """The headers of one attempt; the signature covers "<timestamp>.<body>"."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Yixiang-Event": row.event,
        "X-Yixiang-Delivery": str(row.uuid),
        "X-Yixiang-Timestamp": str(timestamp),
        "X-Yixiang-Signature": rules.webhook_signature(secret, timestamp, row.body.encode("utf-8")),
    }


def delivery_attempt(pk: int, *, now: dt.datetime | None = None) -> str:
    """Try one due delivery once: "sent", "retry", "failed", "disabled" or "skipped" (not due, or
    another worker has it)."""
    now = now or timezone.now()
    if not delivery.claim(WebhookDelivery, pk, statuses=[Status.PENDING], now=now, where=Q(next_attempt_at__lte=now)):
        return "skipped"
    row = WebhookDelivery.objects.select_related("endpoint").get(pk=pk)
    endpoint = row.endpoint
    if not endpoint.is_active:
        delivery.finish(WebhookDelivery, pk, Status.FAILED, error="endpoint switched off", next_attempt_at=None)
        return "failed"
    headers = headers_for(row, endpoint.secret, timestamp=int(time.time()))
    try:
        code = senders.send_webhook(endpoint.url, body=row.body.encode("utf-8"), headers=headers,
                                    timeout=TIMEOUT_SECONDS)  # fmt: skip
    except PermanentFailure as exc:
        delivery.finish(WebhookDelivery, pk, Status.FAILED, error=str(exc), next_attempt_at=None)
        return "failed"
    except Exception as exc:  # refused, timed out, in doubt: the same delivery id goes again later
        log.info("webhook delivery %s: %s", pk, exc)
        return _retry_or_fail(row, now=now, error=str(exc) or type(exc).__name__, code=None)
    if 200 <= code < 300:
        delivery.finish(WebhookDelivery, pk, Status.SENT, response_status=code, sent_at=timezone.now(),
                        next_attempt_at=None)  # fmt: skip
        return "sent"
    if code == 410:
        # 410 Gone: the receiver says this URL is retired for good. Stop sending to it at all.
        delivery.finish(WebhookDelivery, pk, Status.FAILED, response_status=code, error="HTTP 410 Gone: endpoint "
                        "switched off", next_attempt_at=None)  # fmt: skip
        _disable(endpoint, reason=f"HTTP 410 Gone ({timezone.localtime(now):%Y-%m-%d %H:%M})")
        return "disabled"
    return _retry_or_fail(row, now=now, error=f"HTTP {code}", code=code)


def _retry_or_fail(row: WebhookDelivery, *, now: dt.datetime, error: str, code: int | None) -> str:
    wait = rules.webhook_retry_delay(row.attempts)  # attempts counts this one (the claim added it)
    if wait is None:
        delivery.finish(WebhookDelivery, row.pk, Status.FAILED, error=error, response_status=code,
                        next_attempt_at=None)  # fmt: skip
        return "failed"
    delivery.finish(WebhookDelivery, row.pk, Status.PENDING, error=error, response_status=code,
                    next_attempt_at=now + wait)  # fmt: skip
    return "retry"


@transaction.atomic
def _disable(endpoint: WebhookEndpoint, *, reason: str) -> None:
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_reason=reason, updated_at=timezone.now()
    ):
        audit(None, AuditAction.WEBHOOK_DISABLED, target=endpoint, reason=reason)


def deliver(delivery_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[str, int]:
    """The worker's job for freshly queued rows (and the retry sweep's): one attempt each."""
    counts: dict[str, int] = {}
    for pk in delivery_ids:
        outcome = delivery_attempt(pk, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def retry_run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic sweep: rows whose worker died mid-send go back to pending (the receiver may have
    them already: same delivery id), then every due pending row gets its attempt."""
    now = now or timezone.now()
    lost = WebhookDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    requeued = 0
    for pk, attempts in lost.values_list("pk", "attempts"):
        last = attempts >= rules.webhook_max_attempts()
        requeued += delivery.finish(
            WebhookDelivery, pk, Status.FAILED if last else Status.PENDING, error="worker lost mid-send",
            next_attempt_at=None if last else now,
        )  # fmt: skip
    due = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:RETRY_BATCH]
    )
    counts = deliver(due, now=now)
    counts["requeued"] = requeued
    return counts
