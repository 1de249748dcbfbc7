"""Staff, teams, regions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A sales region (大区) run by a regional director."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team (组) inside a region, led by a team lead."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="teams", verbose_name=_("region"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["region__name", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="team_unique_name_in_region")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    LEAD = "lead", _("Team lead")
    DIRECTOR = "director", _("Regional director")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("team")
    )
    # A director's region; for reps and leads it follows from the team (kept in sync by services).
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff", verbose_name=_("region")
    )
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    on_probation = models.BooleanField(_("on probation"), default=False)
    # When set, it decides probation month by month and the flag above is only the fallback
    # (incentives.rules.on_probation_in): the staff record need not be edited when probation ends.
    probation_until = models.DateField(
        _("probation until"), null=True, blank=True, help_text=_("Last day of probation; empty: use the flag.")
    )
    can_unmask = models.BooleanField(
        _("may unmask sensitive fields"), default=False, help_text=_("Bank card and ID numbers in full.")
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.display_name or self.username

    def save(self, *args, **kwargs) -> None:
        # A new password revokes the API tokens issued before it, whatever path set it (account page,
        # Django admin, manage.py changepassword): a leaked password's tokens must not outlive it.
        new_password = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if new_password:
            self.tokens_revoked = ApiToken.objects.filter(user=self, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )

    @property
    def label(self) -> str:
        return self.display_name or self.username

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    @property
    def is_director(self) -> bool:
        return self.role == Role.DIRECTOR

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def on_probation_today(self) -> bool:
        """The account page's chip: the last day of probation decides when set, else the flag."""
        if self.probation_until is None:
            return self.on_probation
        return self.probation_until >= timezone.localdate()

    @property
    def may_unmask(self) -> bool:
        return self.can_unmask or self.is_admin_role


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the raw token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    @staticmethod
    def new_raw() -> str:
        return "yx_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)


class AuditAction(models.TextChoices):
    """The audit vocabulary: every action an AuditEvent may record. Values are the strings stored
    since the start (older ones kept as they are, new ones dotted "<thing>.<verb>")."""

    TOKEN_CREATE = "token.create"  # noqa: S105 - an action name
    TOKEN_REVOKE = "token.revoke"  # noqa: S105 - an action name
    PASSWORD_CHANGE = "password.change"  # noqa: S105 - an action name
    USER_PERMISSIONS = "user.permissions"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    ORG_REGION_SAVE = "org.region.save"
    ORG_TEAM_SAVE = "org.team.save"
    CUSTOMER_UNMASK = "customer.unmask"
    CUSTOMER_EXPORT = "customer.export"
    CUSTOMER_IMPORT = "customer.import"
    CUSTOMER_HIDDEN_DUPLICATE = "customer.hidden_duplicate"
    CUSTOMER_IMPORT_HIDDEN_DUPLICATES = "customer.import_hidden_duplicates"
    CUSTOMER_LOOKUPS_REFUSED = "customer.lookups_refused"
    REPORT_EXPORT = "report.export"
    CALENDAR_TOKEN_CREATE = "calendar.token.create"  # noqa: S105 - an action name
    CALENDAR_TOKEN_REVOKE = "calendar.token.revoke"  # noqa: S105 - an action name
    HOLIDAY_SAVE = "holiday.save"
    HOLIDAY_REMOVE = "holiday.remove"
    CONTRACT_CREATE = "contract.create"
    PAYMENT_RECORD = "payment.record"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_PAID_UNDO = "payout.paid.undo"
    PAYMENT_UNDO = "payment.undo"
    SHIPMENT_RECORD = "shipment.record"
    INCIDENT_UPDATE = "incident.update"
    INCENTIVE_SCHEME_SAVED = "incentive_scheme_saved"
    INCENTIVE_ORDER_SET = "incentive_order_set"
    INCENTIVE_FUNDS_SET = "incentive_funds_set"
    INCENTIVE_MARKED_FAKED = "incentive_marked_faked"
    INCENTIVE_UNMARKED_FAKED = "incentive_unmarked_faked"
    INCENTIVE_MONTH_CLOSED = "incentive_month_closed"
    INCENTIVE_STATEMENTS_EXPORTED = "incentive_statements_exported"
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_UPDATE = "webhook.update"
    WEBHOOK_DELETE = "webhook.delete"
    WEBHOOK_TEST = "webhook.test"
    WEBHOOK_DISABLED = "webhook.disabled"  # by the system: the receiver answered 410 Gone


class AuditEvent(models.Model):
    """Sensitive actions: logins, exports, unmasking, permission changes."""

    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=50, db_index=True)
    target_type = models.CharField(max_length=50, blank=True)
    target_id = models.CharField(max_length=50, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at"]


class WebhookEvent(models.TextChoices):
    """What an administrator's webhook may subscribe to (docs/API.md "Webhooks")."""

    CUSTOMER_SIGNED = "customer.signed", _("Customer signed")
    STAGE_CHANGED = "customer.stage_changed", _("Stage changed")
    CUSTOMER_RELEASED = "customer.released", _("Customer released to the pool")
    CUSTOMER_CLAIMED = "customer.claimed", _("Customer claimed from the pool")
    FOLLOWUP_LOGGED = "followup.logged", _("Follow-up logged")
    PAYOUT_OVERDUE = "payout.overdue", _("Payout overdue")


# Sent by "send test event" only; no endpoint subscribes to it.
WEBHOOK_TEST_EVENT = "webhook.test"


class WebhookEndpoint(models.Model):
    """A URL an administrator registered to receive events, signed with its secret."""

    url = models.CharField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200)
    events = models.JSONField(_("events"), default=list, help_text=_("Names of the events sent to this URL."))
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact body, and how sending it went (the delivery log).
    Its status follows the outbox's state machine (yixiang.outbox.delivery)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    event = models.CharField(_("event"), max_length=50)
    body = models.TextField(_("body"))  # the exact bytes signed and sent, the same on every attempt
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
