"""Campaigns: segments, launch, sending through the adapters, replies and the calls for non-repliers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts import permissions
from yixiang.accounts.models import Region, User
from yixiang.aftercare import rules
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
    InboundReply,
    Message,
)
from yixiang.aftercare.services import SIGNED, _owned, _task, log, tasks_create
from yixiang.customers.models import Customer, Stage, Tag, ValueTier
from yixiang.customers.scoping import editable_customers
from yixiang.errors import Conflict, DomainError, ValidationFailed

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


# Sent with ``campaign_id=`` once a launch committed; ``tasks.py`` listens and queues the sending,
# so this module need not import the task module that imports it.
campaign_launched = Signal()


def _enqueue_send(campaign_id: int) -> None:
    transaction.on_commit(lambda: campaign_launched.send(sender=Campaign, campaign_id=campaign_id))


@transaction.atomic
def campaign_launch(*, actor: User, campaign: Campaign) -> int:
    """Create one Message row per customer (before anything is sent), then hand over to the worker."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not permissions.may_launch_campaign(actor, created_by_id=campaign.created_by_id):
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
