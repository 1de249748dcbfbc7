"""Writes of the reports app: exports (audited), digest preferences and deliveries, calendar tokens.

The digest is sent at most once per user, day and channel: the DigestDelivery row is created first
(unique per user/day/channel) and claimed with a conditional UPDATE before anything leaves, so a
crash or a second worker never sends it twice. Failures where nothing reached the server are
retried by later runs; a send whose outcome is unknown (timeout) is never retried."""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import socket
import time
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.accounts.services import audit
from yixiang.reports import agenda, exports, present, rules
from yixiang.reports.conf import conf
from yixiang.reports.models import CalendarFeed, DigestChannel, DigestDelivery, DigestPreference
from yixiang.reports.selectors import ReportFilters

log = logging.getLogger(__name__)

# Sent with ``delivery_id=`` for each delivery planned by ``digest_run`` (on commit); tasks.py
# listens and queues the sending, so this module need not import the task module that imports it.
digest_due = Signal()

# --- Exports --------------------------------------------------------------------------------------


def export_filename(section: str, f: ReportFilters) -> str:
    return f"yixiang-{section}-{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.xlsx"


def report_export(*, actor: User, section: str, f: ReportFilters) -> bytes:
    """A report section as .xlsx for the actor's scope; every export leaves an audit row."""
    data = present.build(section, user=actor, f=f)
    body = exports.section_workbook(section, data, filters=f.as_params())
    audit(actor, "report.export", target_type="report", target_id=section, **f.as_params())
    return body


# --- Digest preferences ---------------------------------------------------------------------------


@transaction.atomic
def digest_preference_save(*, actor: User, data: dict[str, Any]) -> DigestPreference:
    """Save the actor's own digest preference (cleaned by DigestPreferenceForm)."""
    pref, _created = DigestPreference.objects.select_for_update().get_or_create(user=actor)
    for name in ("enabled", "send_at", "channels", "webhook_url", "webhook_secret"):
        if name in data:
            setattr(pref, name, data[name])
    pref.channels = [c for c in DigestChannel.values if c in (pref.channels or [])]
    pref.updated_at = timezone.now()
    pref.save()
    return pref


# --- Calendar feed tokens -------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_regenerate(*, actor: User) -> str:
    """A new private feed token for the actor; the old URL stops working. Returns the raw token
    (only its hash is kept, so it is shown once)."""
    raw = CalendarFeed.new_raw()
    feed, _created = CalendarFeed.objects.select_for_update().get_or_create(user=actor)
    feed.key_hash, feed.prefix = CalendarFeed.hash(raw), raw[:6]
    feed.created_at, feed.revoked_at, feed.last_used_at = timezone.now(), None, None
    feed.save()
    audit(actor, "calendar.token.create", target_type="user", target_id=str(actor.pk))
    return raw


@transaction.atomic
def calendar_feed_revoke(*, actor: User) -> bool:
    """Revoke the actor's feed token: its URL answers "not found" from now on."""
    n = CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True, key_hash__isnull=False).update(
        revoked_at=timezone.now(), key_hash=None
    )
    if n:
        audit(actor, "calendar.token.revoke", target_type="user", target_id=str(actor.pk))
    return bool(n)


def calendar_feed_touch(feed: CalendarFeed, now: dt.datetime | None = None) -> None:
    """Note when the feed was last fetched (at most once an hour, so reads stay reads)."""
    now = now or timezone.now()
    if feed.last_used_at is None or (now - feed.last_used_at).total_seconds() > 3600:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)


# --- Daily digest ---------------------------------------------------------------------------------


class _Failed(Exception):
    """Nothing reached the server (or it refused the message): safe to try again later."""


class _InDoubt(Exception):
    """We cannot tell whether the message went out: never send it again."""


def digest_plan(*, now: dt.datetime | None = None) -> int:
    """Create today's pending delivery rows for every user whose digest time has come.

    Users without a preference get the defaults when they are reps (08:30, e-mail). Creating a row
    that exists already does nothing, so this runs as often as the worker likes."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    default_at = rules.parse_hhmm(conf("DIGEST_DEFAULT_TIME"))
    default_channels = list(conf("DIGEST_DEFAULT_CHANNELS"))
    users = User.objects.filter(is_active=True).filter(
        Q(digest_preference__enabled=True) | Q(digest_preference__isnull=True, role=Role.REP)
    )
    rows = []
    for user_id, send_at, channels in users.values_list(
        "pk", "digest_preference__send_at", "digest_preference__channels"
    ):
        if send_at is None:  # no preference row
            send_at, channels = default_at, default_channels
        if not rules.digest_due(now, send_at):
            continue
        rows += [DigestDelivery(user_id=user_id, date=today, channel=c) for c in channels or []]
    DigestDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def digest_claim(delivery_id: int, *, now: dt.datetime | None = None) -> bool:
    """Take a delivery for sending: pending (or failed, attempts left) → sending, in one UPDATE.
    Exactly one caller wins; the others get False."""
    return bool(
        DigestDelivery.objects.filter(
            pk=delivery_id,
            status__in=[DigestDelivery.Status.PENDING, DigestDelivery.Status.FAILED],
            attempts__lt=conf("DIGEST_MAX_ATTEMPTS"),
        ).update(status=DigestDelivery.Status.SENDING, claimed_at=now or timezone.now(), attempts=F("attempts") + 1)
    )


def _finish(delivery_id: int, status: str, *, error: str = "", items: int = 0) -> None:
    fields: dict[str, Any] = {"status": status, "error": error[:300], "items": items}
    if status == DigestDelivery.Status.SENT:
        fields["sent_at"] = timezone.now()
    DigestDelivery.objects.filter(pk=delivery_id, status=DigestDelivery.Status.SENDING).update(**fields)


def _send_email(user: User, digest: agenda.Digest, text: str) -> None:
    if not user.email:
        raise _Failed(_("No e-mail address on the account."))
    html = render_to_string("reports/digest_email.html", {"digest": digest, "user": user})
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    email = EmailMultiAlternatives(
        subject=digest.title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        # A stable Message-ID lets mail systems drop a duplicate should one ever slip through.
        headers={"Message-ID": f"<yixiang-digest-{user.pk}-{digest.day:%Y%m%d}@{domain}>"},
        connection=get_connection(fail_silently=False, timeout=conf("DIGEST_HTTP_TIMEOUT_SECONDS")),
    )
    email.attach_alternative(html, "text/html")
    try:
        email.send()
    except (ConnectionRefusedError, socket.gaierror, smtplib.SMTPConnectError) as exc:
        raise _Failed(f"mail server unreachable: {exc}") from exc
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        raise _Failed(f"mail refused: {exc}") from exc
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        raise _InDoubt(f"mail server stopped answering: {exc}") from exc


def _send_robot(pref: DigestPreference, channel: str, digest: agenda.Digest, markdown: str) -> None:
    from yixiang.aftercare.messaging import PermanentFailure, TemporaryFailure, http_post

    if not pref.webhook_url:
        raise _Failed(_("No webhook address in the digest settings."))
    url = pref.webhook_url
    if channel == DigestChannel.DINGTALK:
        payload = rules.dingtalk_payload(digest.title, markdown)
        if pref.webhook_secret:
            from yixiang.aftercare.rules import dingtalk_sign

            ts = int(time.time() * 1000)
            url = rules.signed_webhook_url(url, ts, dingtalk_sign(ts, pref.webhook_secret))
    else:
        payload = rules.wecom_payload(markdown)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        status, raw = http_post(
            url, data=body, content_type="application/json;charset=utf-8", timeout=conf("DIGEST_HTTP_TIMEOUT_SECONDS")
        )
    except (TemporaryFailure, PermanentFailure) as exc:
        raise _Failed(str(exc)) from exc
    except (TimeoutError, OSError) as exc:
        raise _InDoubt(f"webhook stopped answering: {exc}") from exc
    ok, detail = rules.robot_reply_ok(raw)
    if status != 200 or not ok:
        raise _Failed(f"HTTP {status} {detail}")


def digest_send(delivery_id: int, *, now: dt.datetime | None = None) -> str:
    """Claim one delivery and send it; returns its final status ("taken" if another worker has it)."""
    if not digest_claim(delivery_id, now=now):
        return "taken"
    delivery = DigestDelivery.objects.select_related("user").get(pk=delivery_id)
    user = delivery.user
    pref = DigestPreference.objects.filter(user=user).first() or DigestPreference(user=user)
    with translation.override(settings.LANGUAGE_CODE):
        digest = agenda.digest_for(user=user, day=delivery.date)
        if digest.empty and not conf("DIGEST_SEND_EMPTY"):
            _finish(delivery_id, DigestDelivery.Status.SKIPPED)
            return DigestDelivery.Status.SKIPPED
        link = agenda.site_link("agenda")
        try:
            if delivery.channel == DigestChannel.EMAIL:
                _send_email(user, digest, rules.digest_text(digest.title, digest.sections, link))
            else:
                _send_robot(pref, delivery.channel, digest, rules.digest_markdown(digest.title, digest.sections, link))
        except _Failed as exc:
            retry = delivery.attempts < conf("DIGEST_MAX_ATTEMPTS")
            status = DigestDelivery.Status.FAILED if retry else DigestDelivery.Status.GAVE_UP
            log.warning("digest %s to %s via %s failed: %s", delivery_id, user.username, delivery.channel, exc)
            _finish(delivery_id, status, error=str(exc), items=digest.count)
            return status
        except _InDoubt as exc:
            log.warning("digest %s to %s via %s in doubt: %s", delivery_id, user.username, delivery.channel, exc)
            _finish(delivery_id, DigestDelivery.Status.UNKNOWN, error=str(exc), items=digest.count)
            return DigestDelivery.Status.UNKNOWN
    _finish(delivery_id, DigestDelivery.Status.SENT, items=digest.count)
    return DigestDelivery.Status.SENT


def digest_pending(*, today: dt.date) -> list[int]:
    """Today's deliveries still to try (new, or failed with attempts left)."""
    return list(
        DigestDelivery.objects.filter(
            date=today,
            status__in=[DigestDelivery.Status.PENDING, DigestDelivery.Status.FAILED],
            attempts__lt=conf("DIGEST_MAX_ATTEMPTS"),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def digest_run(*, now: dt.datetime | None = None, send=None) -> int:
    """Plan today's digests and hand each pending one to ``send`` (default: the worker's task)."""
    now = now or timezone.now()
    digest_plan(now=now)
    if send is None:  # the worker's task, which tasks.py connects to this signal

        def send(pk: int) -> None:
            digest_due.send(sender=DigestDelivery, delivery_id=pk)

    ids = digest_pending(today=timezone.localtime(now).date())
    for pk in ids:
        transaction.on_commit(lambda pk=pk: send(pk))
    return len(ids)
