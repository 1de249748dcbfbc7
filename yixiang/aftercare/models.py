"""Contracts and payouts of signed (E-class) customers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.customers.fields import EncryptedTextField, mask_number
from yixiang.customers.models import Customer


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        RENEWED = "renewed", _("Renewed")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contracts")
    name = models.CharField(_("project name"), max_length=200)
    number = models.CharField(_("contract number"), max_length=60, unique=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    payout_card = EncryptedTextField(_("payout bank card"), blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def payout_card_masked(self) -> str:
        return mask_number(self.payout_card)


class Payout(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        PAID = "paid", _("Paid")
        LATE = "late", _("Late")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="payouts")
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["due_date", "status"], name="payout_due_status")]


class Payment(models.Model):
    """Money received from a customer (the incentive scheme reads first-month totals from these)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payments")
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments")
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The incentive scheme may count only some product categories (seed 002 item 7).
    category = models.CharField(_("product category"), max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_on", "id"]
        indexes = [models.Index(fields=["customer", "paid_on"], name="payment_customer_paid")]


class Shipment(models.Model):
    """An order shipped to a customer; a month with a shipment is an active month."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shipments")
    shipped_on = models.DateField(_("shipped on"))
    order_no = models.CharField(_("order number"), max_length=60, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipped_on", "id"]
        indexes = [models.Index(fields=["customer", "shipped_on"], name="shipment_customer_shipped")]


class PayoutIncident(models.Model):
    """A late payout: the cause found at once (wrong card number?) and how it was resolved."""

    class Cause(models.TextChoices):
        UNKNOWN = "", _("Not yet known")
        WRONG_CARD = "wrong_card", _("Wrong card number")
        BANK_DELAY = "bank_delay", _("Bank delay")
        PAPERWORK = "paperwork", _("Missing paperwork")
        PROJECT = "project", _("Project-side delay")
        OTHER = "other", _("Other")

    payout = models.OneToOneField(Payout, on_delete=models.CASCADE, related_name="incident")
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices, blank=True)
    cause_detail = models.TextField(_("cause in detail"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("payout incident")
        verbose_name_plural = _("payout incidents")
        ordering = ["-opened_at"]


class LoyaltyLevel(models.TextChoices):
    """The loyalty ladder (客户服务阶梯), seed 003: what a customer tells others and does."""

    LOYAL = "loyal", _("Loyal")
    VERY_SATISFIED = "very_satisfied", _("Very satisfied")
    SATISFIED = "satisfied", _("Satisfied")
    INDIFFERENT = "indifferent", _("Indifferent")
    UNHAPPY = "unhappy", _("Unhappy")
    WRONGED = "wronged", _("Wronged")
    ANGRY = "angry", _("Angry")
    COMPLAINING = "complaining", _("Complaining")


class ReferrerType(models.TextChoices):
    HONOUR = "honour", _("Likes honour")
    PRACTICAL = "practical", _("Practical")
    FRIENDSHIP = "friendship", _("Friendship")


class CustomerCare(models.Model):
    """After-sale state of one customer: loyalty, referrer type, value-tier override, lapsing."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="care", primary_key=True)
    loyalty_level = models.CharField(_("loyalty level"), max_length=20, choices=LoyaltyLevel.choices, blank=True)
    referrer_type = models.CharField(_("referrer type"), max_length=20, choices=ReferrerType.choices, blank=True)
    computed_tier = models.CharField(_("computed value tier"), max_length=1, blank=True)
    tier_computed_at = models.DateTimeField(null=True, blank=True)
    tier_override = models.CharField(_("value tier set by hand"), max_length=1, blank=True)
    tier_override_reason = models.CharField(_("reason"), max_length=300, blank=True)
    tier_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tier_override_at = models.DateTimeField(null=True, blank=True)
    lapsing_since = models.DateField(_("lapsing since"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer care")
        verbose_name_plural = _("customer care")


class LoyaltyChange(models.Model):
    """History of a customer's loyalty level."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="loyalty_changes")
    from_level = models.CharField(max_length=20, choices=LoyaltyLevel.choices, blank=True)
    to_level = models.CharField(max_length=20, choices=LoyaltyLevel.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]


class TierChange(models.Model):
    """History of a customer's value tier: computed changes and manual overrides with their reason."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.CharField(max_length=1, blank=True)
    to_tier = models.CharField(max_length=1, blank=True)
    manual = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]


class LifeEvent(models.Model):
    """A life event on the archive worth a visit (promotion, childbirth, contract maturity …)."""

    class Kind(models.TextChoices):
        PROMOTION = "promotion", _("Promotion")
        RAISE = "raise", _("Pay rise")
        CHILDBIRTH = "childbirth", _("Childbirth")
        WEDDING = "wedding", _("Wedding")
        CONTRACT_MATURITY = "contract_maturity", _("Policy or contract maturity")
        YEAR_END_BONUS = "year_end_bonus", _("Year-end bonus")
        PRIZE = "prize", _("Prize win")
        ILLNESS = "illness", _("Illness")
        MOVE = "move", _("Moving house")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="life_events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    on = models.DateField(_("date"))
    recurring = models.BooleanField(_("every year"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("life event")
        verbose_name_plural = _("life events")
        ordering = ["on", "id"]


class RegionalEvent(models.Model):
    """A fire, flood, traffic accident, death or injury in an area (seed 003 地域的拜访): demand there
    rises, so every customer there gets a visit that asks after them and explains what the
    product is for."""

    class Kind(models.TextChoices):
        STORM = "storm", _("Storm")
        FLOOD = "flood", _("Flood")
        FIRE = "fire", _("Fire")
        ACCIDENT = "accident", _("Accident")
        SNOW = "snow", _("Snow or cold wave")
        EARTHQUAKE = "earthquake", _("Earthquake")
        EPIDEMIC = "epidemic", _("Epidemic")
        DEATH = "death", _("Death")
        INJURY = "injury", _("Injury or disability")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    region = models.ForeignKey(
        "accounts.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    on = models.DateField(_("date"))
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    tasks_created = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("regional event")
        verbose_name_plural = _("regional events")
        ordering = ["-on", "-id"]


class CareTask(models.Model):
    """A care action on a rep's agenda, with a suggested message. ``source_key`` is unique, so every
    generator may run again and again without making a second task for the same occasion."""

    class Kind(models.TextChoices):
        PAYOUT_NOTICE = "payout_notice", _("Payout coming")
        PAYOUT_LATE = "payout_late", _("Payout late")
        RENEWAL = "renewal", _("Renewal")
        BIRTHDAY = "birthday", _("Birthday")
        FESTIVAL = "festival", _("Festival greeting")
        SPECIAL_DAY = "special_day", _("Special day")
        LIFE_EVENT = "life_event", _("Life event")
        REGIONAL = "regional", _("Regional event")
        CAMPAIGN_CALL = "campaign_call", _("Call: no reply to a message")
        MESSAGE_CHECK = "message_check", _("Check a message in doubt")
        REFERRAL_THANKS = "referral_thanks", _("Thank a referrer")
        LAPSE = "lapse", _("Lapsing customer")
        QUICK_CARE = "quick_care", _("Care greeting")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="care_tasks")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_tasks")
    due_on = models.DateField(_("due"))
    occasion_on = models.DateField(_("occasion"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    suggestion = models.TextField(_("suggested message"), blank=True)
    source_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("care task")
        verbose_name_plural = _("care tasks")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["rep", "done_at", "due_on"], name="caretask_rep_open_due"),
            models.Index(fields=["customer", "due_on"], name="caretask_customer_due"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Gift(models.Model):
    """A small gift, matched to the customer's taste, with its cost."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="gifts")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    given_on = models.DateField(_("given on"))
    item = models.CharField(_("item"), max_length=200)
    cost = models.DecimalField(_("cost (yuan)"), max_digits=10, decimal_places=2)
    occasion = models.CharField(_("occasion"), max_length=200, blank=True)
    care_task = models.ForeignKey(CareTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="gifts")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("gift")
        verbose_name_plural = _("gifts")
        ordering = ["-given_on", "-id"]
        indexes = [models.Index(fields=["customer", "given_on"], name="gift_customer_given")]


class Campaign(models.Model):
    """A message to many: a template with placeholders, a segment, channels by preference."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    name = models.CharField(_("name"), max_length=200)
    template = models.TextField(_("message"))
    subject = models.CharField(_("e-mail subject"), max_length=200, blank=True)
    # Segment: {"tiers": [..], "stages": [..], "tags": [..], "region_ids": [..], "provinces": [..],
    # "cities": [..], "signed_only": bool}; evaluated over the creator's own (non-pool) customers.
    segment = models.JSONField(_("segment"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    reply_window_hours = models.PositiveIntegerField(_("reply window (hours)"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    launched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """One campaign message to one customer. The row exists before anything is sent and is claimed
    with a conditional UPDATE (pending → sending), so no two workers send it and a crash loses no one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("No channel")
        UNKNOWN = "unknown", _("In doubt: check by hand")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="campaign_messages")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    address = models.CharField(_("address"), max_length=254, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_ref = models.CharField(max_length=100, blank=True)
    cost = models.DecimalField(_("cost (yuan)"), max_digits=8, decimal_places=2, default=0)
    error = models.CharField(max_length=300, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    reply_text = models.TextField(_("reply"), blank=True)
    call_task_created = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="message_once_per_customer"),
        ]
        indexes = [
            models.Index(fields=["status", "claimed_at"], name="message_status_claimed"),
            models.Index(fields=["address", "sent_at"], name="message_address_sent"),
        ]


class InboundReply(models.Model):
    """A reply received from a provider's push (or logged by hand), matched to the latest message."""

    provider_ref = models.CharField(max_length=100, unique=True)
    address = models.CharField(max_length=254)
    text = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")

    class Meta:
        ordering = ["-received_at"]


class ReferralAsk(models.Model):
    """A referral request made to a customer, with the prerequisites checked before asking."""

    class Outcome(models.TextChoices):
        NOT_ASKED = "not_asked", _("Not asked: keep maintaining")
        # Ticked on an E-class follow-up's checklist; what came of it is in the follow-up's note.
        ASKED = "asked", _("Asked (on a follow-up)")
        DECLINED = "declined", _("Declined")
        PROMISED = "promised", _("Promised to think of someone")
        GAVE_NAMES = "gave_names", _("Gave names")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="referral_asks")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    follow_up = models.ForeignKey(
        "pipeline.FollowUp", null=True, blank=True, on_delete=models.SET_NULL, related_name="referral_asks"
    )
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    prerequisites = models.JSONField(_("prerequisites met"), default=list, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    names_given = models.CharField(_("names given"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("referral ask")
        verbose_name_plural = _("referral asks")
        ordering = ["-asked_at", "-id"]


class ReferralReward(models.Model):
    """The reward owed to a practical referrer when the customer they referred signs."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        PAID = "paid", _("Paid")
        WAIVED = "waived", _("Waived")

    referrer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="referral_rewards")
    referred = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="referral_reward_for")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DUE)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")


class CustomerIssue(models.Model):
    """A complaint, dispute or suggestion of a customer (seed 002: help with problems, disputes
    above all; seed 001: write suggestions down and act on them). On the handler's agenda until
    resolved; complaints and disputes feed the loyalty level."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        DISPUTE = "dispute", _("Dispute")
        SUGGESTION = "suggestion", _("Suggestion")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="issues")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    what = models.TextField(_("what"))
    raised_on = models.DateField(_("raised on"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("handled by")
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer issue")
        verbose_name_plural = _("customer issues")
        ordering = ["-raised_on", "-id"]
        indexes = [models.Index(fields=["handler", "resolved_at"], name="issue_handler_resolved")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.what[:40]}"
