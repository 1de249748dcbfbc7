"""Follow-ups, stage changes and owner changes: the rows every pipeline report reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.customers.models import Customer, Grade, Stage


class FollowUpChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    QQ = "qq", _("QQ")
    OTHER = "other", _("Other")


class FollowUp(models.Model):
    """A contact with a customer (跟进记录) and the stage judged after it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follow_ups")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups")
    at = models.DateTimeField(_("time"), default=timezone.now)
    channel = models.CharField(
        _("channel"), max_length=16, choices=FollowUpChannel.choices, default=FollowUpChannel.PHONE
    )
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    effective = models.BooleanField(_("effective"), default=True, help_text=_("A real conversation with the customer."))
    summary = models.TextField(_("summary"), blank=True)
    signals = models.JSONField(_("signals observed"), default=list, blank=True)
    stage_before = models.SmallIntegerField(choices=Stage.choices)
    stage_after = models.SmallIntegerField(_("stage judged"), choices=Stage.choices)
    proposed_stage_signals = models.SmallIntegerField(null=True, blank=True, choices=Stage.choices)
    proposed_stage_text = models.SmallIntegerField(null=True, blank=True, choices=Stage.choices)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    next_contact_on = models.DateField(_("next planned contact"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-at"], name="followup_customer_at"),
            models.Index(fields=["rep", "at"], name="followup_rep_at"),
        ]


class StageChange(models.Model):
    """One row per stage change: who, when, from, to, the signals and the note."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.SmallIntegerField(null=True, blank=True, choices=Stage.choices)
    to_stage = models.SmallIntegerField(choices=Stage.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The customer's owner at the time: reports attribute the judgment to them.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signals = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="stage_changes"
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "at"], name="stagechange_customer_at"),
            models.Index(fields=["at"], name="stagechange_at"),
        ]


class OwnerChange(models.Model):
    """Every change of owner: claim, release, recycle, hand-over, distribution."""

    class Reason(models.TextChoices):
        CREATED = "created", _("Created")
        CLAIM = "claim", _("Claimed from the pool")
        RELEASE = "release", _("Released to the pool")
        RECYCLE = "recycle", _("Recycled to the pool")
        HANDOVER = "handover", _("Handed over")
        DISTRIBUTE = "distribute", _("Distributed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="owner_changes")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="ownerchange_customer_at")]
