"""Follow-ups, stage changes and owner changes: the rows every pipeline report reads."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yixiang.customers.models import Customer, Grade, Stage


class FollowUpChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    QQ = "qq", _("QQ")
    OTHER = "other", _("Other")


class DecisionMakerContact(models.TextChoices):
    NOT_ASKED = "", _("Not relevant this time")
    REACHED = "reached", _("Reached the decision-maker")
    MISSED = "missed", _("Looked for the decision-maker, not found")


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
    expected_sign_month = models.DateField(_("expected signing month"), null=True, blank=True)
    next_contact_on = models.DateField(_("next planned contact"), null=True, blank=True)
    decision_maker = models.CharField(
        _("decision-maker"), max_length=8, choices=DecisionMakerContact.choices, default="", blank=True
    )
    # The keywords of the note that made the text proposal (shown next to it in the history).
    text_keywords = models.JSONField(default=list, blank=True)
    # An E-class customer's after-sale checklist (seed 001 "成交之后"): the codes of
    # rules.AFTERSALE_CHECKLIST the rep ticked; "referral_asked" is the referral ask of the contact.
    aftersale_checks = models.JSONField(_("after-sale checklist"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-at"], name="followup_customer_at"),
            # "effective" makes it covering: a review counts a region's period (~100k rows at 1M
            # customers) from the index alone instead of one table lookup per follow-up.
            models.Index(fields=["rep", "at", "effective"], name="followup_rep_at_effective"),
        ]


class JudgmentMismatch(models.TextChoices):
    """A raised stage the evidence does not carry (issue 15: "a judgment needs evidence")."""

    NO_EVIDENCE = "no_evidence", _("Raised with no signal ticked and no judging answer")
    ABOVE_EVIDENCE = "above_evidence", _("Judged above what the ticked signals support")


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
    # Set on a rise the evidence does not carry; the team review counts these per rep.
    mismatch = models.CharField(max_length=16, blank=True, choices=JudgmentMismatch.choices)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-at", "-id"]
        indexes = [
            # A customer's rows in (at, id) order either way: "stage at a date" reads one row per
            # customer (reports), the id breaks ties between rows of the same instant.
            models.Index(fields=["customer", "at", "id"], name="stagechange_customer_at_id"),
            models.Index(fields=["at"], name="stagechange_at"),
            # A team's rows of a period (team review): driven from its members, not from every
            # change of the period (the "at" index alone reads the whole company's period).
            models.Index(fields=["owner", "at"], name="stagechange_owner_at"),
        ]


class ReleaseReason(models.TextChoices):
    """Why a rep lets a customer go (踢出), DOMAIN.md §1."""

    NO_RISE = "no_rise", _("Many contacts, the stage does not rise (polite refusal)")
    NO_DECISION_MAKER = "no_decision_maker", _("The decision-maker cannot be found")
    REP_MISTAKE = "rep_mistake", _("A mistake of mine cost the customer's trust")
    PUSHED_TOO_HARD = "pushed_too_hard", _("Pushed too hard, the customer broke off")
    OTHER = "other", _("Other")


class LeavingDetail(models.TextChoices):
    """The finer why of an owner change a next owner reads: the release reasons (踢出) and the
    recycling rules, so the customer page can show ``get_detail_display``."""

    NO_RISE = ReleaseReason.NO_RISE.value, ReleaseReason.NO_RISE.label
    NO_DECISION_MAKER = ReleaseReason.NO_DECISION_MAKER.value, ReleaseReason.NO_DECISION_MAKER.label
    REP_MISTAKE = ReleaseReason.REP_MISTAKE.value, ReleaseReason.REP_MISTAKE.label
    PUSHED_TOO_HARD = ReleaseReason.PUSHED_TOO_HARD.value, ReleaseReason.PUSHED_TOO_HARD.label
    OTHER = ReleaseReason.OTHER.value, ReleaseReason.OTHER.label
    OVERDUE = "overdue", _("Recycled: overdue too long")
    HELD_TOO_LONG = "held_too_long", _("Recycled: held too long without signing")


class OwnerChange(models.Model):
    """Every change of owner: claim, release, recycle, hand-over, distribution."""

    class Reason(models.TextChoices):
        # A context of its own: the bare "Created" is a date label ("创建时间") in other catalogues.
        CREATED = "created", pgettext_lazy("owner change", "Created")
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
    # The finer why: a ReleaseReason for releases, "overdue"/"held_too_long" for recycling.
    detail = models.CharField(max_length=32, blank=True, choices=LeavingDetail.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    distribution = models.ForeignKey(
        "Distribution", null=True, blank=True, on_delete=models.SET_NULL, related_name="owner_changes"
    )

    class Meta:
        verbose_name = _("owner change")
        verbose_name_plural = _("owner changes")
        ordering = ["-at", "-id"]
        indexes = [
            # As for stage changes: "owner at a date" is one backward step per customer.
            models.Index(fields=["customer", "at", "id"], name="ownerchange_customer_at_id"),
            # Claims per rep per day, and "who let it go" for the reclaim block.
            models.Index(fields=["to_owner", "reason", "at"], name="ownerchange_to_reason_at"),
        ]


class NeedCategory(models.Model):
    """A customer need category of the prospecting flow; the products to introduce follow it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("how to recognise it"), blank=True)
    products = models.TextField(_("products to introduce"), blank=True, help_text=_("One per line."))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("need category")
        verbose_name_plural = _("need categories")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def product_list(self) -> list[str]:
        return [line.strip() for line in self.products.splitlines() if line.strip()]


class InternetAwareness(models.TextChoices):
    LOW = "low", _("Low: rarely online")
    MEDIUM = "medium", _("Medium: uses the basics")
    HIGH = "high", _("High: at home online")


class CustomerProfile(models.Model):
    """Pipeline facts about a customer that the archive does not hold."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="pipeline_profile")
    need_category = models.ForeignKey(
        NeedCategory,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("need category"),
    )
    internet_awareness = models.CharField(
        _("internet awareness"), max_length=8, choices=InternetAwareness.choices, blank=True
    )
    # Set when a lead is distributed; cleared by the first follow-up.
    first_contact_due_at = models.DateTimeField(_("first contact due"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("pipeline profile")
        verbose_name_plural = _("pipeline profiles")


class AppointmentWay(models.TextChoices):
    """How a visit was booked (DOMAIN.md §3)."""

    IN_PERSON = "in_person", _("In person")
    THROUGH_SOMEONE = "through_someone", _("Through someone")
    PUBLIC_NOTICE = "public_notice", _("Public notice")
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone / electronic")


class VisitPlan(models.Model):
    """A planned visit (拜访计划); the visit itself is logged as a follow-up."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visit_plans")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="visit_plans")
    at = models.DateTimeField(_("time"))
    place = models.CharField(_("place"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=300)
    person = models.CharField(_("person to meet"), max_length=100, blank=True)
    route = models.CharField(_("route"), max_length=300, blank=True)
    materials = models.CharField(_("materials to bring"), max_length=300, blank=True)
    proposal = models.TextField(_("proposal"), blank=True)
    appointment_way = models.CharField(
        _("booked by"), max_length=16, choices=AppointmentWay.choices, default=AppointmentWay.PHONE
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="visit_plans"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["rep", "status", "at"], name="visitplan_rep_status_at")]


class ReleaseProposal(models.Model):
    """A customer proposed to the rep for release; refreshed daily, the rep decides."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="release_proposal")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=32, choices=ReleaseReason.choices)
    contacts = models.PositiveIntegerField(default=0)
    proposed_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("release proposal")
        verbose_name_plural = _("release proposals")
        indexes = [models.Index(fields=["owner", "dismissed_at"], name="releaseprop_owner_dismissed")]


class RecycleProposal(models.Model):
    """A stage 3–4 customer that a recycling rule would take: the lead confirms (it goes to the
    pool) or keeps it with the rep. Never recycled without that confirmation."""

    class Decision(models.TextChoices):
        RECYCLE = "recycle", _("Recycle to the pool")
        KEEP = "keep", _("Keep with the rep")

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="recycle_proposal")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(
        max_length=32,
        choices=[
            (LeavingDetail.OVERDUE.value, LeavingDetail.OVERDUE.label),
            (LeavingDetail.HELD_TOO_LONG.value, LeavingDetail.HELD_TOO_LONG.label),
        ],
    )
    stage = models.SmallIntegerField()
    proposed_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the lead kept the customer (optional): the rep and the next decision read it.
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("recycling proposal")
        verbose_name_plural = _("recycling proposals")
        indexes = [models.Index(fields=["owner", "decided_at"], name="recycleprop_owner_decided")]


class DistributionMethod(models.TextChoices):
    REGION = "region", _("By region")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    BY_HAND = "by_hand", _("By hand")


class Distribution(models.Model):
    """A list of leads dealt out to reps, with a deadline for the first contact."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(_("method"), max_length=16, choices=DistributionMethod.choices)
    first_contact_by = models.DateTimeField(_("first contact by"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    assigned_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        ordering = ["-created_at"]


class HolidayKind(models.TextChoices):
    DAY_OFF = "off", _("Statutory day off")
    WORKDAY = "workday", _("Make-up working day")


class HolidayDay(models.Model):
    """One day of China's statutory calendar: a day off, or a weekend day worked in lieu (调休).

    Seeded from the ``chinesecalendar`` package for every year it knows (``pipeline.holidays``,
    after each migrate); an administrator enters or corrects a year in /admin/. A year with no
    row is unknown: due dates in it assume Saturday and Sunday off."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=HolidayKind.choices)
    name = models.CharField(_("holiday"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("statutory calendar day")
        verbose_name_plural = _("statutory calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    def clean(self) -> None:
        # A make-up working day only means something on a Saturday or Sunday.
        if self.kind == HolidayKind.WORKDAY and self.date and self.date.weekday() < 5:
            raise ValidationError({"kind": _("A make-up working day must be a Saturday or Sunday.")})
