"""Writes of the intent-lifting pipeline: follow-ups, the stage change of a signing, visits and the
prospecting profile (the tracked list and the public pool are in ``pool.py``).

Views, the API and the background jobs all come through here. Callers pass customers they got
from ``yixiang.customers.scoping`` (so out-of-scope ids are already a 404); every service re-reads
the row under a lock before changing it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts import permissions
from yixiang.accounts.models import User, WebhookEvent
from yixiang.customers.models import Customer, CustomerChange, Grade, Stage
from yixiang.customers.services import history_value
from yixiang.errors import Conflict, DomainError, ValidationFailed
from yixiang.pipeline import aftersale_method, events, rules
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import (
    AppointmentWay,
    CustomerProfile,
    DecisionMakerContact,
    Distribution,
    FollowUp,
    FollowUpChannel,
    InternetAwareness,
    NeedCategory,
    OwnerChange,
    RecycleProposal,
    ReleaseProposal,
    StageChange,
    VisitPlan,
)
from yixiang.pipeline.playbook import get_playbook
from yixiang.pipeline.selectors import due_calendar


def _today() -> dt.date:
    return timezone.localdate()


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _locked(customer: Customer) -> Customer:
    return Customer.objects.select_for_update(of=("self",)).select_related("owner").get(pk=customer.pk)


def _due_after_contact(
    customer: Customer,
    *,
    planned_next: dt.date | None,
    today: dt.date,
    calendar: rules.WorkCalendar | None = None,
) -> dt.date:
    """``calendar``: one that covers the last contact's reach (a history import reads one per batch)."""
    last = _local_date(customer.last_contact_at) if customer.last_contact_at else None
    return rules.next_due_on(
        stage=customer.stage,
        last_effective_contact=last,
        planned_next=planned_next,
        today=today,
        cadence=conf("CADENCE_DAYS"),
        calendar=calendar or due_calendar(last or today),
        shift_holidays=conf("HOLIDAY_SHIFT"),
        slower_shift=conf("HOLIDAY_SHIFT_SLOWER"),
    )


def _record_stage_change(
    *,
    customer: Customer,
    from_stage: int | None,
    to_stage: int,
    by: User | None,
    at: dt.datetime,
    signals: Sequence[str] = (),
    note: str = "",
    follow_up: FollowUp | None = None,
    mismatch: str = "",
) -> StageChange:
    change = StageChange.objects.create(
        mismatch=mismatch,
        customer=customer,
        from_stage=from_stage,
        to_stage=to_stage,
        at=at,
        by=by,
        owner=customer.owner,
        signals=list(signals),
        note=note,
        follow_up=follow_up,
    )
    _hook_stage_changed(change, customer)
    return change


def _hook_stage_changed(change: StageChange, customer: Customer) -> None:
    by = change.by
    events.hook(
        WebhookEvent.STAGE_CHANGED,
        {
            "stage_change_id": change.pk, "customer": {**events.customer_ref(customer), "stage": change.to_stage},
            "from_stage": change.from_stage, "to_stage": change.to_stage, "at": change.at,
            "by": events.user_ref(by),
            "follow_up_id": change.follow_up_id,
        },
    )  # fmt: skip


IMPORTED_STAGE_NOTE = "import"


def record_imported_stages(rows: list[tuple[int, int, int | None]], by_id: int, at: dt.datetime) -> None:
    """The stage rows of imported customers (customer id, stage, owner id), in one statement: the
    judgment is the importer's, at the import's moment, with the note 'import' as its reason."""
    StageChange.objects.bulk_create(
        StageChange(
            customer_id=customer_id,
            from_stage=None,
            to_stage=stage,
            at=at,
            by_id=by_id,
            owner_id=owner_id,
            note=IMPORTED_STAGE_NOTE,
        )
        for customer_id, stage, owner_id in rows
    )


def _change_owner(
    customer: Customer,
    *,
    to_owner: User | None,
    reason: str,
    by: User | None,
    detail: str = "",
    note: str = "",
    distribution: Distribution | None = None,
) -> OwnerChange:
    """Give a locked customer a new owner (None: the pool) and record it. The OwnerChange row is the
    one record of owner changes: the archive's timeline reads it too (pipeline/apps.py)."""
    from_owner = customer.owner
    if from_owner != to_owner:
        customer.owner = to_owner
        customer.version += 1
        customer.updated_at = timezone.now()
        customer.save(update_fields=["owner", "version", "updated_at"])
    return OwnerChange.objects.create(
        customer=customer,
        from_owner=from_owner,
        to_owner=to_owner,
        reason=reason,
        detail=detail,
        note=note,
        by=by,
        distribution=distribution,
    )


def _forget_pipeline_state(customer_ids: Iterable[int]) -> None:
    """A customer that changed hands starts afresh: no proposal, no first-contact deadline."""
    ids = list(customer_ids)
    ReleaseProposal.objects.filter(customer_id__in=ids).delete()
    RecycleProposal.objects.filter(customer_id__in=ids).delete()
    CustomerProfile.objects.filter(customer_id__in=ids, first_contact_due_at__isnull=False).update(
        first_contact_due_at=None
    )


# --- Stage proposals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StageProposals:
    from_signals: int | None
    from_text: int | None
    text_keywords: tuple[str, ...]
    unknown_signals: tuple[str, ...] = ()


def propose_stage(*, signals: Iterable[str], text: str) -> StageProposals:
    """What the ticked signals and the note suggest; the rep decides."""
    pb = get_playbook()
    codes = list(signals)
    by_text = rules.propose_from_text(text, pb.keyword_rules, pb.negations)
    return StageProposals(
        from_signals=rules.propose_from_signals(codes, pb.signal_stage),
        from_text=by_text.stage,
        text_keywords=by_text.matched,
        unknown_signals=tuple(c for c in codes if c not in pb.signal_stage),
    )


# --- Follow-ups ---------------------------------------------------------------------------------


# The choices' values, once: an enum's ``.values`` builds a new list on every call (a history
# import checks 100,000 follow-ups).
_CHANNELS = frozenset(FollowUpChannel.values)
_STAGES = frozenset(Stage.values)
_GRADES = frozenset((None, "", *Grade.values))
_DECISION_MAKER = frozenset(DecisionMakerContact.values)


def validate_followup(
    *,
    customer: Customer,
    at: dt.datetime,
    now: dt.datetime,
    channel: str,
    duration_minutes: int | None,
    stage: int | None,
    grade: str | None,
    next_contact_on: dt.date | None,
    decision_maker: str,
    summary: str,
    proposals: StageProposals,
    backdate_days: int | None = None,
) -> None:
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(at):
        errors["at"] = [_("The time must include a time zone.")]
    else:
        problem = rules.followup_time_problem(
            at,
            now,
            backdate_days=backdate_days or conf("FOLLOWUP_BACKDATE_DAYS"),
            future_tolerance_seconds=conf("FOLLOWUP_FUTURE_TOLERANCE_SECONDS"),
        )
        if problem == "future":
            errors["at"] = [_("A follow-up cannot be in the future: record it after the contact.")]
        elif problem == "too_old":
            errors["at"] = [
                _("A follow-up can be back-dated at most %(days)s days.") % {"days": conf("FOLLOWUP_BACKDATE_DAYS")}
            ]
    if channel not in _CHANNELS:
        errors["channel"] = [_("Unknown channel.")]
    if duration_minutes is not None and not 0 <= duration_minutes <= 24 * 60:
        errors["duration_minutes"] = [_("The duration is between 0 and 1440 minutes.")]
    if stage is not None:
        if customer.stage == Stage.SIGNED and stage != Stage.SIGNED:
            errors["stage"] = [_("A signed (E-class) customer stays E class.")]
        elif customer.stage != Stage.SIGNED and stage == Stage.SIGNED:
            errors["stage"] = [_("Use “Mark as signed” to record the deal.")]
        elif stage not in _STAGES:
            errors["stage"] = [_("Unknown stage.")]
    if grade not in _GRADES:
        errors["grade"] = [_("The grade is A, B, C or D.")]
    if next_contact_on is not None and not errors.get("at") and next_contact_on < _local_date(at):
        errors["next_contact_on"] = [_("The next contact cannot be before this one.")]
    elif next_contact_on is not None and rules.next_contact_too_far(next_contact_on, _local_date(now)):
        errors["next_contact_on"] = [
            _("Plan the next contact at most %(days)s days ahead.") % {"days": rules.NEXT_CONTACT_MAX_DAYS_AHEAD}
        ]
    if decision_maker not in _DECISION_MAKER:
        errors["decision_maker"] = [_("Unknown decision-maker answer.")]
    if len(summary) > 5000:
        errors["summary"] = [_("The summary is at most 5000 characters.")]
    if proposals.unknown_signals:
        errors["signals"] = [_("Unknown signals: %(codes)s") % {"codes": ", ".join(proposals.unknown_signals)}]
    if errors:
        raise ValidationFailed(errors)


# The customer's history ("历史") shows what a follow-up or a deal changed, as the archive's own
# edits do: a rep taking over a customer reads how it got where it is.
_HISTORY_FIELDS = ("stage", "grade", "expected_sign_month", "next_due_on")


def history_snapshot(customer: Customer) -> dict[str, object]:
    return {f: history_value(f, getattr(customer, f)) for f in _HISTORY_FIELDS}


def pipeline_history_entry(
    *, customer: Customer, actor: User, before: dict[str, object], source: str
) -> CustomerChange | None:
    """The history row (unsaved) of what changed since ``before``; None when nothing did."""
    after = history_snapshot(customer)
    changes: dict[str, object] = {f: [before[f], after[f]] for f in _HISTORY_FIELDS if before[f] != after[f]}
    if not changes:
        return None
    changes["source"] = source
    return CustomerChange(customer=customer, actor=actor, action=CustomerChange.Action.UPDATE, changes=changes)


def _record_pipeline_history(*, customer: Customer, actor: User, before: dict[str, object], source: str) -> None:
    entry = pipeline_history_entry(customer=customer, actor=actor, before=before, source=source)
    if entry is not None:
        entry.save(force_insert=True)


@transaction.atomic
def followup_log(
    *,
    actor: User,
    customer: Customer,
    stage: int | None = None,
    at: dt.datetime | None = None,
    channel: str = FollowUpChannel.PHONE,
    duration_minutes: int | None = None,
    effective: bool = True,
    summary: str = "",
    signals: Sequence[str] = (),
    grade: str | None = None,
    expected_sign_month: dt.date | None = None,
    next_contact_on: dt.date | None = None,
    decision_maker: str = "",
    visit_plan: VisitPlan | None = None,
    history_import: bool = False,
    aftersale_checks: Sequence[str] = (),
    confirm_stage: bool = True,
) -> FollowUp:
    """Record a contact and the stage the rep judged after it.

    Stores the proposals (from signals and from the note) next to the rep's decision, writes a
    StageChange row when the stage moves, and reschedules the customer (last contact, next due).
    ``history_import``: an administrator's migration of past follow-ups, which may be older than
    the back-dating limit (the caller checks the role).
    ``aftersale_checks``: a signed customer's after-sale checklist (seed 001); a ticked referral
    ask is announced (``events.referral_asked``) so the after-sale app records it.
    ``confirm_stage=False``: the rep has not confirmed a rise without evidence (no signal ticked,
    no judging answer in the note), so such a rise is refused (code ``stage_unconfirmed``). The web
    form asks the rep itself before calling; the API passes its client's ``confirm_stage``."""
    now = timezone.now()
    at = at or now
    summary = (summary or "").strip()
    signals = list(dict.fromkeys(signals))
    current = _locked(customer)
    before = history_snapshot(current)
    proposals = propose_stage(signals=signals, text=summary)
    validate_followup(
        customer=current,
        at=at,
        now=now,
        channel=channel,
        duration_minutes=duration_minutes,
        stage=stage,
        grade=grade,
        next_contact_on=next_contact_on,
        decision_maker=decision_maker,
        summary=summary,
        proposals=proposals,
        # A migration goes back to the earliest business date, not the back-dating limit.
        backdate_days=(now.date() - rules.EARLIEST_BUSINESS_DATE).days + 1 if history_import else None,
    )
    checks = _validate_aftersale_checks(current, aftersale_checks)
    if current.owner_id is None:
        raise Conflict(pool_followup_refusal())
    today = _local_date(now)
    new_stage = current.stage if stage is None else stage
    if not confirm_stage and rules.needs_evidence_confirmation(
        from_stage=current.stage, to_stage=new_stage, signals=signals, answer=proposals.from_text
    ):
        raise ValidationFailed(
            {"confirm_stage": [_(
                "No signal is ticked and the note records no answer to a judging question: tick what the customer showed, or confirm the stage."
            )]},
            code="stage_unconfirmed",
        )  # fmt: skip
    if grade is None and expected_sign_month is not None:
        grade = rules.grade_for_month(expected_sign_month, today)
    fu, change, rose = judge_followup(
        current,
        actor=actor,
        stage=stage,
        at=at,
        channel=channel,
        duration_minutes=duration_minutes,
        effective=effective,
        summary=summary,
        signals=signals,
        proposals=proposals,
        grade=grade,
        expected_sign_month=expected_sign_month,
        next_contact_on=next_contact_on,
        decision_maker=decision_maker,
        aftersale_checks=checks,
    )
    fu.save(force_insert=True)
    if change is not None:
        change.follow_up = fu
        change.save(force_insert=True)
        _hook_stage_changed(change, current)
    if aftersale_method.REFERRAL_ASKED in checks:
        events.emit_referral_asked(follow_up_id=fu.pk, customer_id=current.pk, rep_id=actor.pk)
    if rose:
        ReleaseProposal.objects.filter(customer=current).delete()
        RecycleProposal.objects.filter(customer=current, decided_at__isnull=True).delete()
    # The newest record's plan counts; a back-dated record does not override a later plan.
    newest = current.follow_ups.order_by("-at", "-id").values_list("next_contact_on", flat=True).first()
    current.next_due_on = _due_after_contact(current, planned_next=newest, today=today)
    current.version += 1
    current.updated_at = now
    current.save(update_fields=FOLLOWUP_CUSTOMER_FIELDS)
    _record_pipeline_history(customer=current, actor=actor, before=before, source="followup")
    CustomerProfile.objects.filter(customer=current, first_contact_due_at__isnull=False).update(
        first_contact_due_at=None
    )
    _close_visit_plan(customer=current, follow_up=fu, plan=visit_plan)
    events.hook(
        WebhookEvent.FOLLOWUP_LOGGED,
        {
            "follow_up_id": fu.pk, "customer": events.customer_ref(current), "rep": events.user_ref(actor),
            "at": fu.at, "channel": fu.channel, "effective": fu.effective,
            "stage_before": fu.stage_before, "stage_after": fu.stage_after, "summary": fu.summary,
            "next_contact_on": fu.next_contact_on,
        },
    )  # fmt: skip
    return fu


def pool_followup_refusal() -> str:
    """Why a pool customer's follow-up is refused (also a history import's row error)."""
    return _("This customer is in the public pool: claim it before recording follow-ups.")


# What recording a follow-up changes on the customer.
FOLLOWUP_CUSTOMER_FIELDS = [
    "stage",
    "stage_rose_at",
    "grade",
    "expected_sign_month",
    "last_contact_at",
    "next_due_on",
    "version",
    "updated_at",
]


def judge_followup(
    current: Customer,
    *,
    actor: User,
    stage: int | None,
    at: dt.datetime,
    channel: str,
    effective: bool,
    summary: str,
    signals: list[str],
    proposals: StageProposals,
    duration_minutes: int | None = None,
    grade: str | None = None,
    expected_sign_month: dt.date | None = None,
    next_contact_on: dt.date | None = None,
    decision_maker: str = "",
    aftersale_checks: Sequence[str] = (),
) -> tuple[FollowUp, StageChange | None, bool]:
    """A checked follow-up's rows, unsaved, and its effect on ``current`` (stage, rise, grade, last
    contact; the caller sets the next due date): the follow-up, the stage change when the stage
    moved (its ``follow_up`` set once the follow-up is saved) and whether the stage rose (the
    customer's release and recycling proposals go). Shared by ``followup_log`` and the history
    import (``services_history``), so an imported history is the one entered live."""
    new_stage = current.stage if stage is None else stage
    fu = FollowUp(
        customer=current,
        rep=actor,
        at=at,
        channel=channel,
        duration_minutes=duration_minutes,
        effective=effective,
        summary=summary,
        signals=signals,
        stage_before=current.stage,
        stage_after=new_stage,
        proposed_stage_signals=proposals.from_signals,
        proposed_stage_text=proposals.from_text,
        text_keywords=list(proposals.text_keywords),
        grade=grade if grade is not None else current.grade,
        expected_sign_month=expected_sign_month,
        next_contact_on=next_contact_on,
        decision_maker=decision_maker,
        aftersale_checks=list(aftersale_checks),
    )
    change, rose = None, False
    if new_stage != current.stage:
        change = StageChange(
            customer=current,
            from_stage=current.stage,
            to_stage=new_stage,
            at=at,
            by=actor,
            owner=current.owner,
            signals=list(signals),
            note=summary,
            mismatch=rules.judgment_mismatch(
                from_stage=current.stage,
                to_stage=new_stage,
                from_signals=proposals.from_signals,
                from_answer=proposals.from_text,
            ),
        )
        if rules.is_rise(current.stage, new_stage):
            rose = True
            if current.stage_rose_at is None or at > current.stage_rose_at:
                current.stage_rose_at = at
        current.stage = new_stage
    if grade is not None:
        current.grade = grade
    if expected_sign_month is not None:
        current.expected_sign_month = expected_sign_month.replace(day=1)
    if effective and (current.last_contact_at is None or at > current.last_contact_at):
        current.last_contact_at = at
    return fu, change, rose


def _validate_aftersale_checks(customer: Customer, codes: Sequence[str]) -> list[str]:
    """The after-sale checklist belongs to signed customers and has only the seed's items."""
    codes = list(codes)
    if not codes:
        return []
    unknown = aftersale_method.unknown_checks(codes)
    if unknown:
        raise ValidationFailed(
            {"aftersale_checks": [_("Unknown checklist items: %(codes)s") % {"codes": ", ".join(unknown)}]}
        )
    if customer.stage != Stage.SIGNED:
        raise ValidationFailed({"aftersale_checks": [_("The after-sale checklist is for signed (E-class) customers.")]})
    return aftersale_method.ordered_checks(codes)


def _close_visit_plan(*, customer: Customer, follow_up: FollowUp, plan: VisitPlan | None) -> None:
    """A logged visit completes its plan: the one named, or a plan for the same day."""
    if plan is not None:
        if plan.customer_id != customer.pk:
            raise ValidationFailed({"visit_plan": [_("That visit plan belongs to another customer.")]})
        VisitPlan.objects.filter(pk=plan.pk, status=VisitPlan.Status.PLANNED).update(
            status=VisitPlan.Status.DONE, follow_up=follow_up
        )
        return
    if follow_up.channel != FollowUpChannel.VISIT:
        return
    day = _local_date(follow_up.at)
    same_day = VisitPlan.objects.filter(
        customer=customer,
        status=VisitPlan.Status.PLANNED,
        at__gte=_start_of(day),
        at__lt=_start_of(day + dt.timedelta(days=1)),
    ).order_by("at")[:1]
    VisitPlan.objects.filter(pk__in=Subquery(same_day.values("pk"))).update(
        status=VisitPlan.Status.DONE, follow_up=follow_up
    )


# --- Signing ------------------------------------------------------------------------------------


@transaction.atomic
def customer_mark_signed(*, actor: User, customer: Customer, signed_on: dt.date, note: str = "") -> Customer:
    """The pipeline's half of a signing: the customer becomes E class (stage change, signed time,
    no grade, no recycling lock) and ``events.CustomerSigned`` goes out on commit. The deal itself
    (contract, payment) is recorded by ``aftercare.services_contracts.customer_sign``, which calls this."""
    now = timezone.now()
    today = _local_date(now)
    current = _locked(customer)
    if current.stage == Stage.SIGNED:
        raise Conflict(_("This customer is already signed; record further contracts under after-sales."))
    if current.owner_id is None:
        raise Conflict(_("This customer is in the public pool: claim it first."))
    signed_at = now if signed_on == today else timezone.make_aware(dt.datetime.combine(signed_on, dt.time(12)))
    before = history_snapshot(current)
    _record_stage_change(
        customer=current, from_stage=current.stage, to_stage=Stage.SIGNED, by=actor, at=signed_at, note=note
    )
    current.stage = Stage.SIGNED
    current.signed_at = signed_at
    current.grade = ""
    current.expected_sign_month = None
    current.recycle_locked = False  # E class never recycles: the lock slot is free again
    if current.last_contact_at is None or signed_at > current.last_contact_at:
        current.last_contact_at = signed_at
    current.next_due_on = _due_after_contact(current, planned_next=None, today=today)
    current.version += 1
    current.updated_at = now
    current.save(
        update_fields=[
            "stage",
            "signed_at",
            "grade",
            "expected_sign_month",
            "recycle_locked",
            "last_contact_at",
            "next_due_on",
            "version",
            "updated_at",
        ]
    )
    _record_pipeline_history(customer=current, actor=actor, before=before, source="sign")
    _forget_pipeline_state([current.pk])
    events.emit_customer_signed(customer_id=current.pk, actor_id=actor.pk, signed_on=signed_on)
    events.hook(
        WebhookEvent.CUSTOMER_SIGNED,
        {"customer": events.customer_ref(current), "signed_on": signed_on, "signed_at": signed_at,
         "by": events.user_ref(actor)},
    )  # fmt: skip
    return current


# --- Visits and the prospecting profile ---------------------------------------------------------


@transaction.atomic
def visit_plan_create(
    *,
    actor: User,
    customer: Customer,
    at: dt.datetime,
    place: str,
    purpose: str,
    person: str = "",
    route: str = "",
    materials: str = "",
    proposal: str = "",
    appointment_way: str = AppointmentWay.PHONE,
) -> VisitPlan:
    """Plan a visit (purpose, person, time and place, route, materials, proposal); it shows on the agenda."""
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(at):
        errors["at"] = [_("The time must include a time zone.")]
    elif _local_date(at) < _today():
        errors["at"] = [_("A visit is planned for today or later.")]
    if not (place or "").strip():
        errors["place"] = [_("Where is the visit?")]
    if not (purpose or "").strip():
        errors["purpose"] = [_("What is the visit for?")]
    if appointment_way not in AppointmentWay.values:
        errors["appointment_way"] = [_("Unknown appointment way.")]
    if errors:
        raise ValidationFailed(errors)
    current = _locked(customer)
    if current.owner_id is None:
        raise Conflict(_("This customer is in the public pool: claim it first."))
    return VisitPlan.objects.create(
        customer=current,
        rep=current.owner if current.owner_id != actor.pk and permissions.can_manage(actor) else actor,
        at=at,
        place=place.strip()[:200],
        purpose=purpose.strip()[:300],
        person=person.strip()[:100],
        route=route.strip()[:300],
        materials=materials.strip()[:300],
        proposal=proposal.strip(),
        appointment_way=appointment_way,
    )


@transaction.atomic
def profile_update(
    *,
    actor: User,
    customer: Customer,
    need_category: NeedCategory | None,
    internet_awareness: str,
) -> CustomerProfile:
    """Record the judged need category and internet awareness (prospecting flow)."""
    if internet_awareness not in ("", *InternetAwareness.values):
        raise ValidationFailed({"internet_awareness": [_("Unknown internet awareness.")]})
    if need_category is not None and not need_category.active:
        raise ValidationFailed({"need_category": [_("This need category is no longer used.")]})
    profile, _created = CustomerProfile.objects.update_or_create(
        customer=customer,
        defaults={
            "need_category": need_category,
            "internet_awareness": internet_awareness,
            "updated_at": timezone.now(),
        },
    )
    return profile


@transaction.atomic
def need_category_save(
    *,
    actor: User,
    name: str,
    products: str = "",
    description: str = "",
    sort_order: int = 0,
    active: bool = True,
    category: NeedCategory | None = None,
) -> NeedCategory:
    """Create or change a need category (administrators only)."""
    if not permissions.is_admin(actor):
        raise DomainError(_("Only an administrator edits need categories."), code="forbidden")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": [_("The name is required.")]})
    clash = NeedCategory.objects.filter(name=name)
    if category is not None:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise ValidationFailed({"name": [_("A need category with this name exists.")]})
    category = category or NeedCategory()
    category.name = name[:100]
    category.products = products
    category.description = description
    category.sort_order = sort_order
    category.active = active
    category.save()
    return category
