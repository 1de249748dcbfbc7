"""Writes of the intent-lifting pipeline: follow-ups, signing, the tracked list and the public pool.

Views, the API and the background jobs all come through here. Callers pass customers they got
from ``yixiang.accounts.scoping`` (so out-of-scope ids are already a 404); every service re-reads
the row under a lock before changing it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.accounts.scoping import editable_customers, staff_in_scope, visible_customers
from yixiang.aftercare.models import Contract, Payment
from yixiang.customers.models import Customer, CustomerChange, Grade, Stage
from yixiang.customers.services import customer_change_owner, history_value
from yixiang.errors import Conflict, DomainError, LimitReached, ValidationFailed
from yixiang.pipeline import rules
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import (
    AppointmentWay,
    CustomerProfile,
    DecisionMakerContact,
    Distribution,
    DistributionMethod,
    FollowUp,
    FollowUpChannel,
    InternetAwareness,
    NeedCategory,
    OwnerChange,
    ReleaseProposal,
    ReleaseReason,
    StageChange,
    VisitPlan,
)
from yixiang.pipeline.playbook import get_playbook
from yixiang.pipeline.selectors import due_calendar, recycle_q


def _today() -> dt.date:
    return timezone.localdate()


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _locked(customer: Customer) -> Customer:
    return Customer.objects.select_for_update(of=("self",)).select_related("owner").get(pk=customer.pk)


def is_manager(user: User) -> bool:
    """Team leads, directors and administrators manage other people's customers."""
    return user.role in (Role.LEAD, Role.DIRECTOR) or user.is_admin_role


def _due_after_contact(customer: Customer, *, planned_next: dt.date | None, today: dt.date) -> dt.date:
    last = _local_date(customer.last_contact_at) if customer.last_contact_at else None
    return rules.next_due_on(
        stage=customer.stage,
        last_effective_contact=last,
        planned_next=planned_next,
        today=today,
        cadence=conf("CADENCE_DAYS"),
        calendar=due_calendar(last or today),
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
) -> StageChange:
    return StageChange.objects.create(
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


def _record_owner_change(
    *,
    customer: Customer,
    from_owner: User | None,
    to_owner: User | None,
    reason: str,
    by: User | None,
    detail: str = "",
    note: str = "",
    distribution: Distribution | None = None,
) -> OwnerChange:
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


def _validate_followup(
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
) -> None:
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(at):
        errors["at"] = [_("The time must include a time zone.")]
    else:
        problem = rules.followup_time_problem(
            at,
            now,
            backdate_days=conf("FOLLOWUP_BACKDATE_DAYS"),
            future_tolerance_seconds=conf("FOLLOWUP_FUTURE_TOLERANCE_SECONDS"),
        )
        if problem == "future":
            errors["at"] = [_("A follow-up cannot be in the future: record it after the contact.")]
        elif problem == "too_old":
            errors["at"] = [
                _("A follow-up can be back-dated at most %(days)s days.") % {"days": conf("FOLLOWUP_BACKDATE_DAYS")}
            ]
    if channel not in FollowUpChannel.values:
        errors["channel"] = [_("Unknown channel.")]
    if duration_minutes is not None and not 0 <= duration_minutes <= 24 * 60:
        errors["duration_minutes"] = [_("The duration is between 0 and 1440 minutes.")]
    if stage is not None:
        if customer.stage == Stage.SIGNED and stage != Stage.SIGNED:
            errors["stage"] = [_("A signed (E-class) customer stays E class.")]
        elif customer.stage != Stage.SIGNED and stage == Stage.SIGNED:
            errors["stage"] = [_("Use “Mark as signed” to record the deal.")]
        elif stage not in Stage.values:
            errors["stage"] = [_("Unknown stage.")]
    if grade not in (None, "", *Grade.values):
        errors["grade"] = [_("The grade is A, B, C or D.")]
    if next_contact_on is not None and not errors.get("at") and next_contact_on < _local_date(at):
        errors["next_contact_on"] = [_("The next contact cannot be before this one.")]
    elif next_contact_on is not None and rules.next_contact_too_far(next_contact_on, _local_date(now)):
        errors["next_contact_on"] = [
            _("Plan the next contact at most %(days)s days ahead.") % {"days": rules.NEXT_CONTACT_MAX_DAYS_AHEAD}
        ]
    if decision_maker not in DecisionMakerContact.values:
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


def _history_snapshot(customer: Customer) -> dict[str, object]:
    return {f: history_value(f, getattr(customer, f)) for f in _HISTORY_FIELDS}


def _record_pipeline_history(*, customer: Customer, actor: User, before: dict[str, object], source: str) -> None:
    after = _history_snapshot(customer)
    changes: dict[str, object] = {f: [before[f], after[f]] for f in _HISTORY_FIELDS if before[f] != after[f]}
    if changes:
        changes["source"] = source
        CustomerChange.objects.create(
            customer=customer, actor=actor, action=CustomerChange.Action.UPDATE, changes=changes
        )


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
) -> FollowUp:
    """Record a contact and the stage the rep judged after it.

    Stores the proposals (from signals and from the note) next to the rep's decision, writes a
    StageChange row when the stage moves, and reschedules the customer (last contact, next due)."""
    now = timezone.now()
    at = at or now
    summary = (summary or "").strip()
    signals = list(dict.fromkeys(signals))
    current = _locked(customer)
    before = _history_snapshot(current)
    proposals = propose_stage(signals=signals, text=summary)
    _validate_followup(
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
    )
    if current.owner_id is None:
        raise Conflict(_("This customer is in the public pool: claim it before recording follow-ups."))
    today = _local_date(now)
    new_stage = current.stage if stage is None else stage
    if grade is None and expected_sign_month is not None:
        grade = rules.grade_for_month(expected_sign_month, today)
    fu = FollowUp.objects.create(
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
    )
    if new_stage != current.stage:
        _record_stage_change(
            customer=current,
            from_stage=current.stage,
            to_stage=new_stage,
            by=actor,
            at=at,
            signals=signals,
            note=summary,
            follow_up=fu,
        )
        if rules.is_rise(current.stage, new_stage):
            ReleaseProposal.objects.filter(customer=current).delete()
        current.stage = new_stage
    if grade is not None:
        current.grade = grade
    if expected_sign_month is not None:
        current.expected_sign_month = expected_sign_month.replace(day=1)
    if effective and (current.last_contact_at is None or at > current.last_contact_at):
        current.last_contact_at = at
    # The newest record's plan counts; a back-dated record does not override a later plan.
    newest = current.follow_ups.order_by("-at", "-id").values_list("next_contact_on", flat=True).first()
    current.next_due_on = _due_after_contact(current, planned_next=newest, today=today)
    current.version += 1
    current.updated_at = now
    current.save(
        update_fields=[
            "stage",
            "grade",
            "expected_sign_month",
            "last_contact_at",
            "next_due_on",
            "version",
            "updated_at",
        ]
    )
    _record_pipeline_history(customer=current, actor=actor, before=before, source="followup")
    CustomerProfile.objects.filter(customer=current, first_contact_due_at__isnull=False).update(
        first_contact_due_at=None
    )
    _close_visit_plan(customer=current, follow_up=fu, plan=visit_plan)
    return fu


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


def _decimal(value, field_name: str, *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed({field_name: [_("This amount is required.")]})
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed({field_name: [_("Enter an amount in yuan.")]}) from None
    if amount < 0 or amount >= Decimal("1e12"):
        raise ValidationFailed({field_name: [_("Enter an amount in yuan.")]})
    return amount.quantize(Decimal("0.01"))


def _contract_number(signed_on: dt.date, customer: Customer) -> str:
    base = f"HT{signed_on:%Y%m%d}-{customer.pk}"
    taken = set(Contract.objects.filter(number__startswith=base).values_list("number", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@transaction.atomic
def customer_sign(
    *,
    actor: User,
    customer: Customer,
    amount,
    signed_on: dt.date | None = None,
    paid_amount=None,
    contract_name: str = "",
    contract_number: str = "",
    note: str = "",
) -> Contract:
    """Mark the customer signed: record the deal (contract, and the payment if money came in) and
    make it an E-class customer."""
    now = timezone.now()
    today = _local_date(now)
    signed_on = signed_on or today
    deal = _decimal(amount, "amount", required=True)
    paid = _decimal(paid_amount, "paid_amount", required=False)
    errors: dict[str, list[str]] = {}
    if deal is not None and deal <= 0:
        errors["amount"] = [_("The deal amount must be more than zero.")]
    problem = rules.signing_date_problem(signed_on, today)
    if problem == "future":
        errors["signed_on"] = [_("The signing date cannot be in the future.")]
    elif problem == "too_old":
        errors["signed_on"] = [
            _("The signing date is %(date)s or later.") % {"date": rules.EARLIEST_BUSINESS_DATE.isoformat()}
        ]
    if len(contract_number) > 60 or len(contract_name) > 200:
        errors["contract_number"] = [_("The contract number or name is too long.")]
    if errors:
        raise ValidationFailed(errors)
    current = _locked(customer)
    if current.stage == Stage.SIGNED:
        raise Conflict(_("This customer is already signed; record further contracts under after-sales."))
    if current.owner_id is None:
        raise Conflict(_("This customer is in the public pool: claim it first."))
    number = contract_number.strip() or _contract_number(signed_on, current)
    if Contract.objects.filter(number=number).exists():
        raise Conflict(_("Contract number %(number)s is already used.") % {"number": number}, code="duplicate")
    contract = Contract.objects.create(
        customer=current,
        name=contract_name.strip() or _("%(name)s contract") % {"name": current.name},
        number=number,
        start_date=signed_on,
        amount=deal,
        signed_by=current.owner,
    )
    if paid:
        Payment.objects.create(
            customer=current, contract=contract, paid_on=signed_on, amount=paid, recorded_by=actor, note=note[:200]
        )
    signed_at = now if signed_on == today else timezone.make_aware(dt.datetime.combine(signed_on, dt.time(12)))
    before = _history_snapshot(current)
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
    return contract


# --- The tracked list and the pool --------------------------------------------------------------


def _leave_owner(customer: Customer) -> None:
    customer.held_since = None
    customer.next_due_on = None
    customer.recycle_locked = False
    customer.save(update_fields=["held_since", "next_due_on", "recycle_locked"])


def _take(customer: Customer, *, next_due_on: dt.date, now: dt.datetime) -> None:
    customer.held_since = now
    customer.next_due_on = next_due_on
    customer.recycle_locked = False
    customer.save(update_fields=["held_since", "next_due_on", "recycle_locked"])


@transaction.atomic
def customer_release(*, actor: User, customer: Customer, reason: str, note: str = "") -> Customer:
    """Let a customer go to the public pool with one of the method's reasons (or "other" + text)."""
    note = (note or "").strip()
    if reason not in ReleaseReason.values:
        raise ValidationFailed({"reason": [_("Choose a reason for the release.")]})
    if reason == ReleaseReason.OTHER and not note:
        raise ValidationFailed({"note": [_("Say why, when the reason is “other”.")]})
    current = _locked(customer)
    if current.owner_id is None:
        raise Conflict(_("This customer is already in the public pool."))
    if current.stage == Stage.SIGNED:
        raise DomainError(_("A signed (E-class) customer is not released to the pool; a lead can hand it over."))
    old_owner = current.owner
    customer_change_owner(actor=actor, customer=current, new_owner=None, reason=f"release:{reason}")
    _leave_owner(current)
    _record_owner_change(
        customer=current,
        from_owner=old_owner,
        to_owner=None,
        reason=OwnerChange.Reason.RELEASE,
        by=actor,
        detail=reason,
        note=note,
    )
    _forget_pipeline_state([current.pk])
    return current


def _claim_refusal_message(code: str) -> str:
    if code == rules.CLAIM_RECLAIM_BLOCKED:
        return _("You let this customer go less than %(days)s days ago; another rep may claim it first.") % {
            "days": conf("RECLAIM_BLOCK_DAYS")
        }
    if code == rules.CLAIM_MAX_TRACKED:
        return _("You already track %(max)s customers, the most allowed. Release some first.") % {
            "max": conf("MAX_TRACKED")
        }
    return _("You have claimed %(max)s customers today, the most allowed per day.") % {
        "max": conf("MAX_CLAIMS_PER_DAY")
    }


def tracked_count(user: User) -> int:
    """Customers counted against the tracked-list limit: owned, not deleted, not yet signed."""
    return Customer.objects.filter(owner=user, deleted_at__isnull=True).exclude(stage=Stage.SIGNED).count()


@transaction.atomic
def claim_from_pool(*, actor: User, customer: Customer) -> Customer:
    """Take a customer from the public pool onto the actor's tracked list.

    Exactly one of several simultaneous claimers wins: the owner is set with a conditional
    UPDATE … WHERE owner IS NULL and only the one that changed a row goes on."""
    now = timezone.now()
    today = _local_date(now)
    # Serialise this rep's own claims so two tabs cannot both pass the limits.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    left = (
        OwnerChange.objects.filter(customer_id=customer.pk, from_owner=actor, to_owner__isnull=True)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    refusal = rules.claim_refusal(
        tracked_count=tracked_count(actor),
        claims_today=OwnerChange.objects.filter(
            to_owner=actor, reason=OwnerChange.Reason.CLAIM, at__gte=_start_of(today)
        ).count(),
        left_claimant_on=_local_date(left) if left else None,
        today=today,
        max_tracked=conf("MAX_TRACKED"),
        max_claims_per_day=conf("MAX_CLAIMS_PER_DAY"),
        reclaim_block_days=conf("RECLAIM_BLOCK_DAYS"),
    )
    if refusal:
        raise LimitReached(_claim_refusal_message(refusal), code=refusal)
    won = Customer.objects.filter(pk=customer.pk, owner__isnull=True, deleted_at__isnull=True).update(owner=actor)
    if won != 1:
        raise Conflict(_("Another rep claimed this customer first."), code="already_claimed")
    current = Customer.objects.get(pk=customer.pk)
    # The row is ours now; present it as it was so the archive history reads "pool → actor".
    current.owner = None
    customer_change_owner(actor=actor, customer=current, new_owner=actor, reason="claim")
    _take(current, next_due_on=today, now=now)
    _record_owner_change(customer=current, from_owner=None, to_owner=actor, reason=OwnerChange.Reason.CLAIM, by=actor)
    _forget_pipeline_state([current.pk])
    return current


@transaction.atomic
def customer_set_recycle_lock(*, actor: User, customer: Customer, locked: bool) -> Customer:
    """Lock a customer against automatic recycling (at most 5 per rep), or unlock it."""
    current = _locked(customer)
    if current.owner_id is None:
        raise Conflict(_("A customer in the public pool cannot be locked."))
    if current.recycle_locked == locked:
        return current
    if locked:
        # The limit is per owner: serialise locks of the same owner.
        User.objects.select_for_update().filter(pk=current.owner_id).first()
        count = Customer.objects.filter(owner_id=current.owner_id, recycle_locked=True).count()
        refusal = rules.lock_refusal(stage=current.stage, locked_count=count, max_locks=conf("RECYCLE_LOCKS_PER_REP"))
        if refusal == "signed":
            raise DomainError(_("Signed (E-class) customers are never recycled; no lock is needed."))
        if refusal == "max_locks":
            raise LimitReached(
                _("At most %(max)s customers per rep can be locked against recycling.")
                % {"max": conf("RECYCLE_LOCKS_PER_REP")},
                code="max_locks",
            )
    current.recycle_locked = locked
    current.version += 1
    current.updated_at = timezone.now()
    current.save(update_fields=["recycle_locked", "version", "updated_at"])
    CustomerChange.objects.create(
        customer=current,
        actor=actor,
        action=CustomerChange.Action.UPDATE,
        changes={"recycle_locked": [not locked, locked]},
    )
    return current


@transaction.atomic
def customer_hand_over(*, actor: User, customer: Customer, to_user: User, note: str = "") -> Customer:
    """A lead or director moves a customer to another member of their scope."""
    if not is_manager(actor):
        raise DomainError(_("Only a team lead or director can hand customers over."), code="forbidden")
    if not to_user.is_active or not staff_in_scope(actor).filter(pk=to_user.pk).exists():
        raise ValidationFailed({"to_user": [_("You cannot hand customers to %(user)s.") % {"user": to_user.label}]})
    current = _locked(customer)
    if current.owner_id == to_user.pk:
        return current
    now = timezone.now()
    old_owner = current.owner
    customer_change_owner(actor=actor, customer=current, new_owner=to_user, reason="handover")
    _take(current, next_due_on=current.next_due_on or _local_date(now), now=now)
    _record_owner_change(
        customer=current,
        from_owner=old_owner,
        to_owner=to_user,
        reason=OwnerChange.Reason.HANDOVER,
        by=actor,
        note=note.strip(),
    )
    _forget_pipeline_state([current.pk])
    return current


# --- Distribution of a list of leads ------------------------------------------------------------


@dataclass
class DistributionResult:
    distribution: Distribution | None
    assigned: dict[int, int] = field(default_factory=dict)  # customer id -> rep id
    unassigned: list[int] = field(default_factory=list)


@transaction.atomic
def distribute_customers(
    *,
    actor: User,
    customer_ids: Sequence[int],
    method: str,
    rep_ids: Sequence[int] = (),
    by_hand: Mapping[int, int] | None = None,
    first_contact_by: dt.datetime | None = None,
    note: str = "",
) -> DistributionResult:
    """Deal a list of leads to reps (by region, round-robin or by hand) with a first-contact deadline.

    Leads come from the pool or from the actor's scope; claim limits do not apply (a manager's call)."""
    if not is_manager(actor):
        raise DomainError(_("Only a team lead or director can distribute customers."), code="forbidden")
    if method not in DistributionMethod.values:
        raise ValidationFailed({"method": [_("Choose by region, round-robin or by hand.")]})
    now = timezone.now()
    deadline = first_contact_by or now + dt.timedelta(hours=conf("FIRST_CONTACT_HOURS"))
    if timezone.is_naive(deadline) or deadline <= now:
        raise ValidationFailed({"first_contact_by": [_("The first-contact deadline must be in the future.")]})
    ids = list(dict.fromkeys(int(i) for i in customer_ids))
    if not ids:
        raise ValidationFailed({"customer_ids": [_("Choose at least one customer.")]})
    allowed = visible_customers(actor).filter(Q(owner__isnull=True) | Q(pk__in=editable_customers(actor).values("pk")))
    customers = {c.pk: c for c in allowed.filter(pk__in=ids).select_related("owner")}
    missing = [i for i in ids if i not in customers]
    if missing:
        raise ValidationFailed(
            {"customer_ids": [_("Not found: %(ids)s") % {"ids": ", ".join(map(str, missing))}]}, message=None
        )
    hand = {int(k): int(v) for k, v in (by_hand or {}).items()}
    wanted_reps = set(rep_ids) | set(hand.values())
    reps = {u.pk: u for u in staff_in_scope(actor).filter(pk__in=wanted_reps).select_related("team")}
    unknown = sorted(set(wanted_reps) - set(reps))
    if unknown:
        raise ValidationFailed({"rep_ids": [_("Not in your scope: %(ids)s") % {"ids": ", ".join(map(str, unknown))}]})
    rep_order = [r for r in dict.fromkeys(rep_ids) if r in reps]
    if method == DistributionMethod.BY_HAND:
        left_out = [i for i in ids if i not in hand]
        if left_out:
            raise ValidationFailed(
                {"by_hand": [_("Choose a rep for: %(ids)s") % {"ids": ", ".join(map(str, left_out))}]}
            )
        pairs, unassigned = [(i, hand[i]) for i in ids], []
    elif not rep_order:
        raise ValidationFailed({"rep_ids": [_("Choose the reps to distribute to.")]})
    elif method == DistributionMethod.ROUND_ROBIN:
        pairs, unassigned = rules.round_robin(ids, rep_order), []
    else:
        rep_regions = [(r, reps[r].team.region_id if reps[r].team else reps[r].region_id) for r in rep_order]
        pairs, unassigned = rules.by_region([(i, customers[i].region_id) for i in ids], rep_regions)
    dist = Distribution.objects.create(
        created_by=actor, method=method, first_contact_by=deadline, note=note[:200], assigned_count=len(pairs)
    )
    due = _local_date(deadline)
    for customer_id, rep_id in pairs:
        current = _locked(customers[customer_id])
        old_owner, rep = current.owner, reps[rep_id]
        if old_owner != rep:
            customer_change_owner(actor=actor, customer=current, new_owner=rep, reason="distribute")
        _take(current, next_due_on=min(due, current.next_due_on or due), now=now)
        _record_owner_change(
            customer=current,
            from_owner=old_owner,
            to_owner=rep,
            reason=OwnerChange.Reason.DISTRIBUTE,
            by=actor,
            distribution=dist,
        )
        ReleaseProposal.objects.filter(customer=current).delete()
        CustomerProfile.objects.update_or_create(
            customer=current, defaults={"first_contact_due_at": deadline, "updated_at": now}
        )
    return DistributionResult(distribution=dist, assigned=dict(pairs), unassigned=unassigned)


# --- Daily jobs: recycling and release proposals ------------------------------------------------


def _normalise_schedules(today: dt.date) -> None:
    """Customers given an owner outside the pipeline (archive create, import) get a schedule:
    held since they were created, due today."""
    owned = Customer.objects.filter(owner__isnull=False, deleted_at__isnull=True)
    owned.filter(held_since__isnull=True).update(held_since=F("created_at"))
    owned.filter(next_due_on__isnull=True).update(next_due_on=today)


@dataclass
class RecycleResult:
    overdue: int = 0
    held_too_long: int = 0

    @property
    def recycled(self) -> int:
        return self.overdue + self.held_too_long


def recycle_run(*, today: dt.date | None = None) -> RecycleResult:
    """The daily recycling job: overdue > 30 days or held > 180 days unsigned → public pool.

    Works in batches of set-based statements so it scales to millions of customers; every owner
    change leaves an OwnerChange and a CustomerChange row. Running it twice changes nothing more."""
    now = timezone.now()
    today = today or _local_date(now)
    batch = conf("RECYCLE_BATCH_SIZE")
    _normalise_schedules(today)
    result = RecycleResult()
    last_pk = 0
    while True:
        with transaction.atomic():
            cond, due_before = recycle_q(today)
            rows = list(
                Customer.objects.filter(cond, pk__gt=last_pk)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", "owner_id", "next_due_on")[:batch]
            )
            if not rows:
                break
            labels = {
                pk: display or username
                for pk, display, username in User.objects.filter(pk__in={r[1] for r in rows}).values_list(
                    "pk", "display_name", "username"
                )
            }
            changes, history = [], []
            for pk, owner_id, due in rows:
                why = rules.RECYCLE_OVERDUE if due is not None and due < due_before else rules.RECYCLE_HELD_TOO_LONG
                if why == rules.RECYCLE_OVERDUE:
                    result.overdue += 1
                else:
                    result.held_too_long += 1
                changes.append(
                    OwnerChange(
                        customer_id=pk,
                        from_owner_id=owner_id,
                        to_owner=None,
                        reason=OwnerChange.Reason.RECYCLE,
                        detail=why,
                        at=now,
                    )
                )
                history.append(
                    CustomerChange(
                        customer_id=pk,
                        actor=None,
                        action=CustomerChange.Action.OWNER,
                        changes={"owner": [labels.get(owner_id), None], "reason": f"recycle:{why}"},
                        at=now,
                    )
                )
            ids = [r[0] for r in rows]
            Customer.objects.filter(pk__in=ids).update(
                owner=None,
                held_since=None,
                next_due_on=None,
                recycle_locked=False,
                version=F("version") + 1,
                updated_at=now,
            )
            OwnerChange.objects.bulk_create(changes)
            CustomerChange.objects.bulk_create(history)
            _forget_pipeline_state(ids)
            last_pk = ids[-1]
        if len(rows) < batch:
            break
    return result


def _release_candidates(now: dt.datetime) -> dict[int, tuple[int, str, int]]:
    """{customer id: (owner id, reason, contacts)} for today's release proposals (set-based)."""
    tracked = (
        Customer.objects.filter(owner__isnull=False, deleted_at__isnull=True, held_since__isnull=False)
        .exclude(stage=Stage.SIGNED)
        .order_by()
    )
    no_rise_since = now - dt.timedelta(days=conf("RELEASE_NO_RISE_DAYS"))
    last_rise = (
        StageChange.objects.filter(customer=OuterRef("pk"), from_stage__isnull=False, to_stage__gt=F("from_stage"))
        .order_by("-at")
        .values("at")[:1]
    )
    contacts_since = (
        FollowUp.objects.filter(customer=OuterRef("pk"), at__gte=OuterRef("since"))
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    no_rise = (
        tracked.filter(held_since__lte=no_rise_since)
        .annotate(since=Greatest(Coalesce(Subquery(last_rise), F("held_since")), F("held_since")))
        .filter(since__lte=no_rise_since)
        .annotate(n_contacts=Coalesce(Subquery(contacts_since), 0))
        .filter(n_contacts__gte=conf("RELEASE_MIN_CONTACTS"))
        .values_list("pk", "owner_id", "n_contacts")
    )
    out = {pk: (owner, ReleaseReason.NO_RISE.value, n) for pk, owner, n in no_rise}
    dm = FollowUp.objects.filter(customer=OuterRef("pk"), at__gte=OuterRef("held_since"))
    missed = (
        dm.filter(decision_maker=DecisionMakerContact.MISSED)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    no_dm = (
        tracked.annotate(
            missed=Coalesce(Subquery(missed), 0),
            reached=Exists(dm.filter(decision_maker=DecisionMakerContact.REACHED)),
        )
        .filter(missed__gte=conf("RELEASE_DM_ATTEMPTS"), reached=False)
        .values_list("pk", "owner_id", "missed")
    )
    for pk, owner, n in no_dm:
        out.setdefault(pk, (owner, ReleaseReason.NO_DECISION_MAKER.value, n))
    return out


@transaction.atomic
def release_proposals_refresh(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute the proposals to release; idempotent. Dismissed ones stay quiet for a while."""
    now = now or timezone.now()
    wanted = _release_candidates(now)
    snooze_until = now - dt.timedelta(days=conf("RELEASE_PROPOSAL_SNOOZE_DAYS"))
    stale, keep, update = [], set(), []
    for prop in ReleaseProposal.objects.all().only(
        "pk", "customer_id", "owner_id", "reason", "contacts", "dismissed_at"
    ):
        hit = wanted.get(prop.customer_id)
        expired = prop.dismissed_at is not None and prop.dismissed_at < snooze_until
        if hit is None or hit[0] != prop.owner_id or expired:
            stale.append(prop.pk)
            continue
        keep.add(prop.customer_id)
        if (prop.reason, prop.contacts) != hit[1:]:
            prop.reason, prop.contacts = hit[1], hit[2]
            update.append(prop)
    ReleaseProposal.objects.filter(pk__in=stale).delete()
    ReleaseProposal.objects.bulk_update(update, ["reason", "contacts"])
    new = [
        ReleaseProposal(customer_id=pk, owner_id=owner, reason=reason, contacts=n, proposed_at=now)
        for pk, (owner, reason, n) in wanted.items()
        if pk not in keep
    ]
    ReleaseProposal.objects.bulk_create(new)
    return {"proposed": len(wanted), "new": len(new), "removed": len(stale)}


@transaction.atomic
def release_proposal_dismiss(*, actor: User, customer: Customer) -> None:
    """The rep keeps the customer: the proposal stays quiet for the snooze period."""
    ReleaseProposal.objects.filter(customer=customer, dismissed_at__isnull=True).update(dismissed_at=timezone.now())


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
        rep=current.owner if current.owner_id != actor.pk and is_manager(actor) else actor,
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
def visit_plan_cancel(*, actor: User, plan: VisitPlan) -> VisitPlan:
    VisitPlan.objects.filter(pk=plan.pk, status=VisitPlan.Status.PLANNED).update(status=VisitPlan.Status.CANCELLED)
    plan.refresh_from_db()
    return plan


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
    if not actor.is_admin_role:
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
