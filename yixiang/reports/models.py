"""The daily digest (per-user preference and one delivery row per user, day and channel) and the
private calendar feed token."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.customers.fields import EncryptedTextField


class DigestChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")


def _default_send_at() -> dt.time:
    from yixiang.reports.conf import conf
    from yixiang.reports.rules import parse_hhmm

    return parse_hhmm(conf("DIGEST_DEFAULT_TIME"))


def _default_channels() -> list[str]:
    from yixiang.reports.conf import conf

    return list(conf("DIGEST_DEFAULT_CHANNELS"))


class DigestPreference(models.Model):
    """How and when a user gets the morning digest. No row means the defaults (08:30, e-mail)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference")
    enabled = models.BooleanField(_("send me the daily digest"), default=True)
    send_at = models.TimeField(_("time of day"), default=_default_send_at)
    channels = models.JSONField(_("channels"), default=_default_channels, blank=True)
    # The robot's webhook URL carries its key: encrypted at rest like other secrets.
    webhook_url = EncryptedTextField(_("group-robot webhook URL"), blank=True)
    webhook_secret = EncryptedTextField(
        _("signing secret (DingTalk 加签)"), blank=True, help_text=_("Only for DingTalk robots with signing on.")
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("digest preference")
        verbose_name_plural = _("digest preferences")


class DigestDelivery(models.Model):
    """One digest to one user on one day through one channel. Claimed with a conditional UPDATE
    (pending/failed → sending) before anything is sent, so a crash or a second worker never sends
    it twice: a row left in "sending" is never picked up again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        GAVE_UP = "gave_up", _("Failed")
        UNKNOWN = "unknown", _("In doubt (may have been sent)")
        SKIPPED = "skipped", _("Nothing to send")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries")
    date = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=16, choices=DigestChannel.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    items = models.PositiveIntegerField(_("items"), default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        ordering = ["-date", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["user", "date", "channel"], name="digest_once_per_user_day_channel")
        ]
        indexes = [models.Index(fields=["date", "status"], name="digest_date_status")]


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class CalendarFeed(models.Model):
    """A user's private iCalendar feed. Only the SHA-256 of the token is kept; the URL is shown once.
    Regenerating replaces the token (the old URL stops working); revoking clears it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    key_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    prefix = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    @property
    def active(self) -> bool:
        return bool(self.key_hash) and self.revoked_at is None

    @staticmethod
    def new_raw() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash(raw)


class WinRateSnapshot(models.Model):
    """Per-stage win-rate counts of one part of the customers, shared by every worker.

    A win-chance table is a sum of per-customer counts, and the public pool (owner empty, ~78 % of
    the customers, the same for every viewer) and the owned customers are disjoint: the pool part,
    the whole owned part (admins) and a region's owned part (its directors) are counted here by a
    periodic task, so a customer page reads snapshots and counts at most a rep's or a team's own
    part live (reports.selectors.win_rates_for)."""

    class Part(models.TextChoices):
        POOL = "pool", _("Public pool")
        OWNED = "owned", _("All owned customers")

    REGION_PREFIX = "region:"  # + the region's id: the owned part a director of the region sees

    # Part.POOL, Part.OWNED or REGION_PREFIX + id.
    part = models.CharField(max_length=32, unique=True)
    # {"<stage>": [reached, signed]} for every stage, as reports.history.movement counts them.
    counts = models.JSONField(default=dict)
    # The history counted is the one up to this instant (taken before the counting query ran).
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("win-rate snapshot")
        verbose_name_plural = _("win-rate snapshots")

    def __str__(self) -> str:
        return f"{self.part} @ {self.computed_at:%Y-%m-%d %H:%M}"

    @classmethod
    def region_part(cls, region_id: int) -> str:
        return f"{cls.REGION_PREFIX}{region_id}"


class FunnelSnapshot(models.Model):
    """Customers one staff member owned in one intent stage at the end of one local day.

    The funnel at a past date is a sum of these rows for the selected staff (an index read) instead
    of a replay of the stage- and owner-change history (1.2 s for a region at 1M customers). A day
    counts as snapshotted only once its FunnelSnapshotDay row exists (written in the same
    transaction); days without one are computed live from the history."""

    day = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stage = models.SmallIntegerField()
    customers = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("funnel snapshot")
        verbose_name_plural = _("funnel snapshots")
        constraints = [
            models.UniqueConstraint(fields=["day", "owner", "stage"], name="funnel_snapshot_day_owner_stage")
        ]


class FunnelSnapshotDay(models.Model):
    """A day whose FunnelSnapshot rows are complete (no rows for an owner then means none owned)."""

    day = models.DateField(unique=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("funnel snapshot day")
        verbose_name_plural = _("funnel snapshot days")
