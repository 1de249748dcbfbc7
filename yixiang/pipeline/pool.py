"""The tracked list and the public pool: release, claim, recycling lock, hand-over, distribution of
leads, and the daily recycling and release proposals. Callers pass customers they got from the
scoping helpers; every service re-reads the row under a lock before changing it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts import permissions, webhooks
from yixiang.accounts.models import User, WebhookEvent
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers.models import Customer, CustomerChange, Stage
from yixiang.customers.scoping import editable_customers, visible_customers
from yixiang.errors import Conflict, DomainError, LimitReached, ValidationFailed
from yixiang.pipeline import events, rules
from yixiang.pipeline.conf import conf
from yixiang.pipeline.models import (
    CustomerProfile,
    DecisionMakerContact,
    Distribution,
    DistributionMethod,
    FollowUp,
    OwnerChange,
    RecycleProposal,
    ReleaseProposal,
    ReleaseReason,
    StageChange,
)
from yixiang.pipeline.selectors import recycle_policy, recycle_q
from yixiang.pipeline.services import (
    _change_owner,
    _forget_pipeline_state,
    _local_date,
    _locked,
    _start_of,
)

# --- The tracked list and the pool --------------------------------------------------------------


def _to_pool(customer: Customer, *, by: User, reason: str, detail: str, note: str = "") -> None:
    """A locked customer leaves its owner for the public pool (a release or a confirmed recycling):
    the owner change is recorded, the tracked-list state cleared and pending proposals dropped."""
    _change_owner(customer, to_owner=None, reason=reason, by=by, detail=detail, note=note)
    customer.held_since = None
    customer.next_due_on = None
    customer.recycle_locked = False
    customer.save(update_fields=["held_since", "next_due_on", "recycle_locked"])
    _forget_pipeline_state([customer.pk])


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
    _to_pool(current, by=actor, reason=OwnerChange.Reason.RELEASE, detail=reason, note=note)
    events.hook(
        WebhookEvent.CUSTOMER_RELEASED,
        {"customer": events.customer_ref(current), "from_owner": events.user_ref(old_owner),
         "reason": reason, "note": note, "by": events.user_ref(actor)},
    )  # fmt: skip
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


def serialise_rep(user_id: int) -> None:
    """Make one rep's limit-checked writes (claims, recycle locks) take turns.

    FOR NO KEY UPDATE, not FOR UPDATE: other transactions' foreign-key checks on the user row
    (FOR KEY SHARE, run at commit for any row pointing at this rep — a customer they created, a
    change they made) must not wait for it. With FOR UPDATE two reps claiming each other's former
    customers deadlocked on PostgreSQL (the soak test's claim 500). SQLite has no row locks and
    ignores this; its single writer already serialises."""
    User.objects.select_for_update(no_key=True).filter(pk=user_id).first()


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
    serialise_rep(actor.pk)
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
    # The row is ours now; present it as it was so the change reads "pool → actor" (and bumps the version).
    current.owner = None
    _change_owner(current, to_owner=actor, reason=OwnerChange.Reason.CLAIM, by=actor)
    _take(current, next_due_on=today, now=now)
    _forget_pipeline_state([current.pk])
    events.hook(WebhookEvent.CUSTOMER_CLAIMED, {"customer": events.customer_ref(current, owner=actor)})
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
        serialise_rep(current.owner_id)
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
    if not permissions.can_manage(actor):
        raise DomainError(_("Only a team lead or director can hand customers over."), code="forbidden")
    if not to_user.is_active or not staff_in_scope(actor).filter(pk=to_user.pk).exists():
        raise ValidationFailed({"to_user": [_("You cannot hand customers to %(user)s.") % {"user": to_user.label}]})
    current = _locked(customer)
    if current.owner_id == to_user.pk:
        return current
    now = timezone.now()
    _change_owner(current, to_owner=to_user, reason=OwnerChange.Reason.HANDOVER, by=actor, note=note.strip())
    _take(current, next_due_on=current.next_due_on or _local_date(now), now=now)
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
    if not permissions.can_manage(actor):
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
        _change_owner(current, to_owner=reps[rep_id], reason=OwnerChange.Reason.DISTRIBUTE, by=actor, distribution=dist)
        _take(current, next_due_on=min(due, current.next_due_on or due), now=now)
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
    # Stage 3–4 customers a rule would take: proposed to the lead instead.
    proposed_to_lead: int = 0

    @property
    def recycled(self) -> int:
        return self.overdue + self.held_too_long


def recycle_run(*, today: dt.date | None = None) -> RecycleResult:
    """The daily recycling job: overdue > 30 days or held > 180 days unsigned (since the last rise)
    → public pool; never a customer whose stage rose in the last 30 days, and stage 3–4 customers
    become a proposal to the lead instead (each rule a setting, see selectors.recycle_policy).

    Works in batches of set-based statements so it scales to millions of customers; every owner
    change leaves an OwnerChange row. Running it twice changes nothing more."""
    now = timezone.now()
    today = today or _local_date(now)
    batch = conf("RECYCLE_BATCH_SIZE")
    _normalise_schedules(today)
    result = RecycleResult()
    cond, due_before = recycle_q(today)
    if recycle_policy().hot_needs_lead:
        result.proposed_to_lead = _propose_hot_to_lead(cond, due_before, now)
        cond &= ~Q(stage__in=rules.HOT_STAGES)
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Customer.objects.filter(cond, pk__gt=last_pk)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", "owner_id", "next_due_on", "name", "stage")[:batch]
            )
            if not rows:
                break
            usernames = dict(User.objects.filter(pk__in={r[1] for r in rows}).values_list("pk", "username"))
            changes, released = [], []
            for pk, owner_id, due, name, stage in rows:
                why = _recycle_why(due, due_before)
                released.append({
                    "customer": {"id": pk, "name": name, "stage": stage, "owner": None},
                    "from_owner": {"id": owner_id, "username": usernames.get(owner_id)},
                    "reason": f"recycle:{why}", "note": "", "by": None,
                })  # fmt: skip
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
            _forget_pipeline_state(ids)
            webhooks.emit_many(WebhookEvent.CUSTOMER_RELEASED, released, occurred_at=now)
            last_pk = ids[-1]
        if len(rows) < batch:
            break
    return result


def _recycle_why(due: dt.date | None, due_before: dt.date | None) -> str:
    overdue = due is not None and due_before is not None and due < due_before
    return rules.RECYCLE_OVERDUE if overdue else rules.RECYCLE_HELD_TOO_LONG


@transaction.atomic
def _propose_hot_to_lead(cond: Q, due_before: dt.date | None, now: dt.datetime) -> int:
    """Stage 3–4 customers a rule would take wait for the lead. A lead's "keep" stays quiet for
    the proposal snooze period; an open proposal is not duplicated."""
    quiet_since = now - dt.timedelta(days=conf("RELEASE_PROPOSAL_SNOOZE_DAYS"))
    RecycleProposal.objects.filter(decision=RecycleProposal.Decision.KEEP, decided_at__lt=quiet_since).delete()
    rows = (
        Customer.objects.filter(cond, stage__in=rules.HOT_STAGES)
        .exclude(recycle_proposal__isnull=False)
        .values_list("pk", "owner_id", "stage", "next_due_on")
    )
    new = [
        RecycleProposal(
            customer_id=pk, owner_id=owner, stage=stage, reason=_recycle_why(due, due_before), proposed_at=now
        )
        for pk, owner, stage, due in rows
    ]
    RecycleProposal.objects.bulk_create(new)
    return len(new)


def recycle_proposals_for(user: User) -> list[RecycleProposal]:
    """Open recycling proposals of the reps the user manages (a lead's confirmation list)."""
    if not permissions.can_manage(user):
        return []
    return list(
        RecycleProposal.objects.filter(decided_at__isnull=True, owner__in=staff_in_scope(user))
        .select_related("customer", "owner")
        .order_by("proposed_at", "pk")
    )


def recycle_proposal_count(user: User) -> int:
    """How many recycling proposals wait for this lead (0 for a rep): the home page's count."""
    if not permissions.can_manage(user):
        return 0
    return RecycleProposal.objects.filter(decided_at__isnull=True, owner__in=staff_in_scope(user)).count()


@transaction.atomic
def recycle_proposal_decide(*, actor: User, customer: Customer, recycle: bool, note: str = "") -> RecycleProposal:
    """The lead confirms the recycling of a stage 3–4 customer (it goes to the pool with the rule's
    reason) or keeps it with the rep; the optional note says why (kept on the owner change or on
    the kept proposal)."""
    note = (note or "").strip()[:2000]
    if not permissions.can_manage(actor):
        raise DomainError(_("Only a lead can confirm the recycling of a stage 3–4 customer."))
    current = _locked(customer)
    prop = RecycleProposal.objects.filter(customer=current, decided_at__isnull=True).first()
    if prop is None or current.owner_id != prop.owner_id:
        raise Conflict(_("There is no open recycling proposal for this customer."))
    if not staff_in_scope(actor).filter(pk=prop.owner_id).exists():
        raise DomainError(_("This customer's rep is not in your team."))
    now = timezone.now()
    if recycle:
        _to_pool(
            current, by=actor, reason=OwnerChange.Reason.RECYCLE, detail=prop.reason, note=note
        )  # drops the proposal
        prop.decision, prop.decided_at, prop.decided_by = RecycleProposal.Decision.RECYCLE, now, actor
        prop.note = note
        return prop
    prop.decision, prop.decided_at, prop.decided_by = RecycleProposal.Decision.KEEP, now, actor
    prop.note = note
    prop.save(update_fields=["decision", "decided_at", "decided_by", "note"])
    return prop


def leaving_reason(customer: Customer) -> OwnerChange | None:
    """Why the customer last left an owner (release or recycling): what the next owner reads,
    ``get_detail_display()`` in words and ``note`` for "other"."""
    return (
        OwnerChange.objects.filter(
            customer=customer, reason__in=[OwnerChange.Reason.RELEASE, OwnerChange.Reason.RECYCLE]
        )
        .select_related("from_owner", "by")
        .order_by("-at", "-id")
        .first()
    )


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
