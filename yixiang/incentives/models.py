"""Incentives for developing new customers (激励): scheme versions, monthly inputs, frozen statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.incentives import rules

SEED = rules.SEED


def _penalties_default() -> dict:
    return {str(k): list(v) for k, v in SEED.penalties.items()}


def _steps_default() -> dict:
    return {str(k): [list(s) for s in v] for k, v in SEED.reward_steps.items()}


class SchemeVersion(models.Model):
    """One dated version of the scheme (激励措施), holding every number as data.

    A month is computed with the version in force on its first day."""

    name = models.CharField(_("name"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("Empty: until further notice."))
    valid_floor = models.PositiveIntegerField(
        _("valid-customer payment floor (yuan)"), default=SEED.valid_floor, validators=[MinValueValidator(1)]
    )
    double_floor = models.PositiveIntegerField(
        _("double-count payment floor (yuan)"), default=SEED.double_floor, validators=[MinValueValidator(1)]
    )
    default_threshold = models.PositiveSmallIntegerField(_("default threshold"), default=SEED.default_threshold)
    # {"2": [800, 300], "1": [500]}: penalty by count reached, per threshold.
    penalties = models.JSONField(_("penalties per threshold"), default=_penalties_default)
    # {"2": [[7950, 300], [20000, 500], [50000, 1000]], …}: (payment floor, reward) steps per threshold.
    reward_steps = models.JSONField(_("reward steps per threshold"), default=_steps_default)
    director_short = models.PositiveIntegerField(_("director: per customer short (yuan)"), default=SEED.director_short)
    director_over = models.PositiveIntegerField(_("director: per customer over (yuan)"), default=SEED.director_over)
    probation_factor = models.DecimalField(
        _("probation factor"),
        max_digits=3,
        decimal_places=2,
        default=SEED.probation_factor,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    min_days_on_staff = models.PositiveSmallIntegerField(
        _("minimum days on staff in the month"), default=SEED.min_days_on_staff, validators=[MaxValueValidator(31)]
    )
    activity_window = models.PositiveSmallIntegerField(
        _("activity window (months)"), default=SEED.activity_window, validators=[MinValueValidator(1)]
    )
    activity_min_active = models.PositiveSmallIntegerField(
        _("active months needed"), default=SEED.activity_min_active, validators=[MinValueValidator(1)]
    )
    fraud_person = models.PositiveIntegerField(_("faked customer: person (yuan)"), default=SEED.fraud_person)
    fraud_director = models.PositiveIntegerField(_("faked customer: director (yuan)"), default=SEED.fraud_director)
    # Item 7: only these product categories' payments count. Empty: every payment counts.
    counted_categories = models.JSONField(
        _("counted product categories"),
        default=list,
        blank=True,
        help_text=_("Payments of these product categories count toward new customers. Empty: every payment counts."),
    )
    opening_fund = models.IntegerField(
        _("penalty fund at the start (yuan)"), default=SEED.opening_fund, validators=[MinValueValidator(0)]
    )
    target_due_day = models.PositiveSmallIntegerField(
        _("targets due on day"), default=6, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    target_due_time = models.TimeField(_("targets due at"), default=dt.time(8, 0))
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("incentive scheme version")
        verbose_name_plural = _("incentive scheme versions")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="scheme_version_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Assessment(models.Model):
    """A person assessed in a month (区域经理 with a threshold), or a director's filed region target."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="incentive_assessments",
        verbose_name=_("staff"),
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    threshold = models.PositiveSmallIntegerField(
        _("threshold"), null=True, blank=True, help_text=_("New customers per month (1 or 2); empty for a director.")
    )
    performance_pay = models.PositiveIntegerField(
        _("performance pay (yuan)"), default=0, help_text=_("Penalties never take more than this.")
    )
    target = models.PositiveIntegerField(
        _("monthly target"), null=True, blank=True, help_text=_("A director's approved region target for the month.")
    )
    target_filed_at = models.DateTimeField(_("target filed at"), null=True, blank=True)
    # Snapshots, so a later change on the staff record (a move, the end of probation) does not
    # move a closed month and turn into false corrections.
    on_probation = models.BooleanField(_("on probation"), default=False)
    region = models.ForeignKey(
        "accounts.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("region")
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("monthly assessment")
        verbose_name_plural = _("monthly assessments")
        ordering = ["month", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="assessment_one_per_month")]
        indexes = [models.Index(fields=["month"], name="assessment_month")]


class DevelopedCustomer(models.Model):
    """A new customer developed (新开客户) by a person in a month."""

    class Source(models.TextChoices):
        PAYMENTS = "payments", _("From the first payment")
        MANUAL = "manual", _("Entered by hand")

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="development", verbose_name=_("customer")
    )
    developer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="developed_customers",
        verbose_name=_("developed by"),
    )
    month = models.DateField(_("month developed"), help_text=_("The first day of the month."))
    reported_on = models.DateField(
        _("reported on"),
        help_text=_("When the customer was reported (by default the first payment); it does not rank."),
    )
    # Item 8: the region's report decides the order; an explicit sequence within the month.
    position = models.PositiveIntegerField(_("reported order"), default=0)
    faked = models.BooleanField(_("faked"), default=False)
    faked_found_month = models.DateField(_("faked: found in month"), null=True, blank=True)
    faked_note = models.CharField(_("faked: note"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.PAYMENTS)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("developed customer")
        verbose_name_plural = _("developed customers")
        ordering = ["month", "position", "id"]
        indexes = [
            models.Index(fields=["month", "developer"], name="developed_month_dev"),
            models.Index(fields=["faked_found_month"], name="developed_faked_found"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(faked=False) | Q(faked_found_month__isnull=False), name="developed_faked_has_month"
            )
        ]

    def save(self, *args, **kwargs) -> None:
        # A row added without a position goes last in its month's report (bulk writers set it).
        if not self.position:
            last = DevelopedCustomer.objects.filter(month=self.month).aggregate(m=models.Max("position"))["m"]
            self.position = (last or 0) + 1
        super().save(*args, **kwargs)


class MonthFunds(models.Model):
    """The month's third source for rewards (item 11): the management-assessment fund and the team
    efficiency wages, entered per month by an administrator."""

    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    management_fund = models.PositiveIntegerField(_("management-assessment fund (yuan)"), default=0)
    efficiency_wages = models.PositiveIntegerField(_("team efficiency wages (yuan)"), default=0)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("month's reward funds")
        verbose_name_plural = _("months' reward funds")
        ordering = ["-month"]


class MonthClose(models.Model):
    """A closed (frozen) month: its statements are stored and never recomputed."""

    month = models.DateField(_("month"), unique=True)
    version = models.ForeignKey(SchemeVersion, on_delete=models.PROTECT, related_name="+")
    fund_before = models.IntegerField(_("penalty fund before"))
    penalties = models.IntegerField(_("penalties collected"))
    from_penalties = models.IntegerField(_("rewards paid from the month's penalties"))
    from_fund = models.IntegerField(_("rewards paid from the penalty fund"))
    from_management = models.IntegerField(_("rewards paid from the management fund"))
    held_back = models.IntegerField(_("rewards held back"), default=0)  # months closed before rewards were always paid
    fund_after = models.IntegerField(_("penalty fund after"))
    management_fund = models.IntegerField(_("management-assessment fund entered"), default=0)
    efficiency_wages = models.IntegerField(_("team efficiency wages entered"), default=0)
    from_wages = models.IntegerField(_("rewards paid from the team efficiency wages"), default=0)
    shortfall = models.IntegerField(_("rewards paid beyond the month's funds"), default=0)
    # Each director's backlog of unmet targets after the month: {user id: count}.
    backlogs = models.JSONField(default=dict)
    closed_at = models.DateTimeField(_("closed"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("closed incentive month")
        verbose_name_plural = _("closed incentive months")
        ordering = ["-month"]


class Statement(models.Model):
    """One person's frozen statement of a closed month."""

    month = models.DateField(_("month"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incentive_statements")
    username = models.CharField(max_length=150)
    role = models.CharField(max_length=16)
    threshold = models.PositiveSmallIntegerField(null=True)
    valid_customers = models.PositiveIntegerField(default=0)
    total = models.IntegerField()
    on_probation = models.BooleanField(default=False)
    performance_pay = models.PositiveIntegerField(null=True)
    target = models.PositiveIntegerField(null=True)
    target_late = models.BooleanField(default=False)
    approved_target = models.PositiveIntegerField(null=True)
    backlog_in = models.PositiveIntegerField(default=0)
    backlog_out = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("incentive statement")
        verbose_name_plural = _("incentive statements")
        ordering = ["month", "username"]
        constraints = [models.UniqueConstraint(fields=["month", "user"], name="statement_one_per_month")]


class StatementLine(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    amount = models.IntegerField()
    reason = models.CharField(max_length=32)
    params = models.JSONField(default=dict)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_name = models.CharField(max_length=100, blank=True)
    funding = models.CharField(max_length=32, blank=True)
    held_back = models.PositiveIntegerField(default=0)
    refers_to = models.DateField(null=True)

    class Meta:
        ordering = ["statement", "position"]
        constraints = [models.UniqueConstraint(fields=["statement", "position"], name="statement_line_position")]
