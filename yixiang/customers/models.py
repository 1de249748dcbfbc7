"""The customer archive (客户档案): customers, contact persons, tags and the change history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yixiang.customers.fields import EncryptedTextField, mask_number
from yixiang.customers.stages import Stage, is_unjudged

# A phone search of 3 or 4 digits is the end of the number (尾号, issue 17).
PHONE_TAIL = 4


class PhoneTail(models.Func):
    """The last PHONE_TAIL characters of a phone key, spelled as literal SQL: a database uses an
    expression index only for the same expression, and SQLite does not match a bound parameter
    (Django's Right passes the length as one)."""

    output_field = models.CharField()

    def __init__(self, expression: str = "phone_normalized", **extra: object) -> None:
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def, override]
        return super().as_sql(compiler, connection, template=f"RIGHT(%(expressions)s, {PHONE_TAIL})", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        return super().as_sql(compiler, connection, template=f"SUBSTR(%(expressions)s, -{PHONE_TAIL})", **extra_context)


class Grade(models.TextChoices):
    """Distance in time to signing (客户等级), separate from the stage."""

    A = "A", _("A: signs this month")
    B = "B", _("B: next month")
    C = "C", _("C: within three months")
    D = "D", _("D: no date")


class Kind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COMPANY = "company", _("Company")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "", _("Unknown")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    QQ = "qq", _("QQ")
    VISIT = "visit", _("Visit")


class Source(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    DATABASE = "database", _("Database")
    FRONT_DESK = "front_desk", _("Front desk / walk-in")
    PHONE_DUTY = "phone_duty", _("Phone duty")
    PURCHASED_LIST = "purchased_list", _("Purchased list")
    COMPETITOR_LIST = "competitor_list", _("Competitor's list")
    PARTNER = "partner", _("Partner channel")
    OTHER = "other", _("Other")


class BirthdayCalendar(models.TextChoices):
    SOLAR = "solar", _("Solar (公历)")
    LUNAR = "lunar", _("Lunar (农历)")


class ValueTier(models.TextChoices):
    A = "A", _("A: key")
    B = "B", _("B: secondary")
    C = "C", _("C: ordinary")
    D = "D", _("D: no potential now")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


LIVE = Q(deleted_at__isnull=True)


class Customer(models.Model):
    """A customer archive entry.

    Substring search reads a trigram index the database keeps itself (migration 0002_search): on
    SQLite the FTS5 table customers_customer_fts filled by triggers on this table, on PostgreSQL
    pg_trgm GIN indexes. A later migration that makes SQLite rebuild this table (most AlterField
    changes do) drops those triggers with the old table: such a migration must create them again
    (copy SQLITE_UP from 0002_search, then 0007_fts_pause_for_import's, whose insert trigger stands
    aside while the importer fills the table itself); customers/tests/test_search.py fails if they
    are missing."""

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.INDIVIDUAL)
    name = models.CharField(_("name"), max_length=100)
    # Search keys kept in sync by services: full pinyin without spaces, and initials.
    # Indexed (with the live-row search indexes below) for prefix range searches.
    name_pinyin = models.CharField(max_length=300, blank=True, editable=False)
    name_initials = models.CharField(max_length=100, blank=True, editable=False)
    archive_no = models.CharField(_("archive number"), max_length=40, unique=True, editable=False)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        verbose_name=_("owner"),
        help_text=_("Empty means the customer is in the public pool."),
        db_index=False,  # customer_owner_stage starts with it (migration 0008)
    )
    stage = models.SmallIntegerField(_("intent stage"), choices=Stage.choices, default=Stage.S0)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    expected_sign_month = models.DateField(_("expected signing month"), null=True, blank=True)
    value_tier = models.CharField(_("value tier"), max_length=1, choices=ValueTier.choices, blank=True)

    # Contact channels
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # E.164 form from phonenumbers; the dedupe key (unique when present).
    phone_normalized = models.CharField(max_length=20, null=True, blank=True, editable=False)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    qq = models.CharField(_("QQ"), max_length=20, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=Channel.choices, default=Channel.PHONE
    )

    # Person
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birthday_calendar = models.CharField(
        _("celebrates birthday by"), max_length=8, choices=BirthdayCalendar.choices, default=BirthdayCalendar.SOLAR
    )
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    income = models.CharField(_("income"), max_length=50, blank=True)
    family_situation = models.TextField(_("family situation"), blank=True)
    family_supports = models.BooleanField(_("family supports the purchase"), null=True, blank=True)
    personality = models.CharField(_("personality"), max_length=200, blank=True)
    hobbies = models.CharField(_("hobbies / tastes"), max_length=200, blank=True)
    special_days = models.TextField(_("special days"), blank=True, help_text=_("Anniversaries, wedding day…"))
    financial_situation = models.CharField(_("financial situation"), max_length=200, blank=True)
    funds_available = models.DecimalField(
        _("funds available (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    # Place
    region = models.ForeignKey(
        "accounts.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("region")
    )
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)

    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)

    # Company
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    company_size = models.CharField(_("company size"), max_length=50, blank=True)
    decision_maker = models.CharField(_("decision-maker"), max_length=100, blank=True)
    key_people = models.TextField(_("key people"), blank=True)

    # Qualification checklist (seed 002, sample 5): ticked item codes; score derived from them.
    qualification = models.JSONField(_("qualification checklist"), default=list, blank=True)

    # Sensitive: encrypted at rest, masked on screen.
    bank_card = EncryptedTextField(_("bank card number"), blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)

    notes = models.TextField(_("notes"), blank=True)

    # Pipeline state kept on the row so the agenda and recycling are single indexed queries.
    last_contact_at = models.DateTimeField(_("last effective contact"), null=True, blank=True, editable=False)
    next_due_on = models.DateField(_("next contact due"), null=True, blank=True, editable=False)
    held_since = models.DateTimeField(_("held by owner since"), null=True, blank=True, editable=False)
    recycle_locked = models.BooleanField(_("locked against recycling"), default=False, editable=False)
    # The last stage rise: shields the customer from recycling for a while and restarts the
    # "held without signing" clock (the StageChange rows stay the history).
    stage_rose_at = models.DateTimeField(_("stage last rose"), null=True, blank=True, editable=False)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True, editable=False)
    referrer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referred", verbose_name=_("referred by")
    )

    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
    # Optimistic locking: an edit must name the version it started from.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_normalized"],
                condition=Q(phone_normalized__isnull=False),
                name="customer_unique_phone",
            )
        ]
        indexes = [
            models.Index(fields=["owner", "stage"], name="customer_owner_stage"),
            models.Index(fields=["deleted_at", "owner"], name="customer_deleted_owner"),
            models.Index(fields=["owner", "next_due_on"], name="customer_owner_due"),
            # The list's default order over live rows (everyone's, and one owner's or the pool's): a first
            # page reads ~50 index entries.
            models.Index(fields=["-updated_at", "-id"], condition=LIVE, name="customer_live_recent"),
            models.Index(fields=["owner", "-updated_at", "-id"], condition=LIVE, name="customer_live_owner_recent"),
            # Search by prefix (selectors.search_terms): the key, then owner, updated_at and
            # deleted_at so the scope test and the ordering are answered from the index alone
            # (a covering index: "张" is ~7 % of a million names; reading the rows costs 10×). The id
            # too: SQLite keeps the rowid in every index, PostgreSQL only what is listed, and without
            # it read every match's row (issue 17: "ly", ~16,000 matches at 1M, 160 ms → 15 ms).
            models.Index(
                fields=["name_initials", "owner", "updated_at", "deleted_at", "id"],
                condition=LIVE,
                name="customer_live_initials",
            ),
            models.Index(
                fields=["name_pinyin", "owner", "updated_at", "deleted_at", "id"],
                condition=LIVE,
                name="customer_live_pinyin",
            ),
            models.Index(
                fields=["name", "owner", "updated_at", "deleted_at", "id"], condition=LIVE, name="customer_live_name"
            ),
            models.Index(
                fields=["company_name", "owner", "updated_at", "deleted_at", "id"],
                condition=LIVE,
                name="customer_live_company",
            ),
            # The last digits of the phone (issue 17): a 4-digit fragment anywhere in the number
            # matched ~600–3,000 rows at 1M through the trigram index, each row read from the table
            # (p95 111 ms warm, 350 ms cold); its tail is ~100 entries read from here alone. Not
            # partial: PostgreSQL keeps no statistics on a partial index's expression and then
            # guesses 0.5 % of the table and reads the rows. phone_normalized last, so PostgreSQL
            # may answer from the index alone (it does not match the expression otherwise).
            models.Index(
                PhoneTail(),
                F("owner"),
                F("updated_at"),
                F("deleted_at"),
                F("id"),
                F("phone_normalized"),
                name="customer_phone_tail",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None

    @property
    def is_signed(self) -> bool:
        return self.stage == Stage.SIGNED

    @property
    def is_unjudged(self) -> bool:
        """A new lead before its first effective contact: shown as unjudged, not stage 0."""
        return is_unjudged(self.stage, self.last_contact_at)

    @property
    def bank_card_masked(self) -> str:
        return mask_number(self.bank_card)

    @property
    def id_number_masked(self) -> str:
        return mask_number(self.id_number)


class ContactPerson(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    is_decision_maker = models.BooleanField(_("decision-maker"), default=False)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["-is_decision_maker", "id"]
        indexes = [models.Index(fields=["name"], name="contact_name")]  # search by contact name prefix

    def __str__(self) -> str:
        return self.name


class CustomerChange(models.Model):
    """The customer's history: who changed what, when. Sensitive values are stored masked."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        DELETE = "delete", _("deleted")
        RESTORE = "restore", _("restored")
        TAGS = "tags", _("tags changed")
        CONTACTS = "contacts", _("contacts changed")
        UNMASK = "unmask", _("sensitive fields viewed")
        IMPORT = "import", _("imported")
        OWNER = "owner", _("owner changed")

    # Not indexed alone: custchange_customer_at starts with it (migration 0008).
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="changes", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)  # {field: [old, new]}
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="custchange_customer_at")]


class ArchiveSequence(models.Model):
    """Per-year counter behind archive numbers; incremented under a row lock."""

    key = models.CharField(max_length=20, primary_key=True)
    value = models.PositiveIntegerField(default=0)


class ImportJob(models.Model):
    """A customer import: the uploaded file, its progress and its row-level report."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        # A migration's history ("bring your history"): run by the after-sale app's importer.
        FOLLOWUPS = "followups", _("Follow-up history")
        CONTRACTS = "contracts", _("Contracts")
        PAYOUTS = "payouts", _("Payouts")
        PAYMENTS = "payments", _("Payments")
        OWNERS = "owners", _("Owner assignments")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CUSTOMERS)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Owner of the imported customers; empty puts them in the public pool."),
    )
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"line": 7, "reason": "..."}], capped so a huge bad file cannot bloat the row.
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A finished dry run's first rows as the import reads them, so the job page never re-reads the file.
    preview = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
