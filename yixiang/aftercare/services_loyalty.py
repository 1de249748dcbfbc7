"""Value tiers, loyalty levels, lapsing customers and referrals (asks, thanks, rewards)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.aftercare import loyalty_ladder, rules
from yixiang.aftercare.conf import conf
from yixiang.aftercare.models import (
    CareTask,
    Contract,
    CustomerCare,
    LoyaltyChange,
    LoyaltyLevel,
    Payment,
    ReferralAsk,
    ReferralReward,
    ReferrerType,
    Shipment,
    TierChange,
)
from yixiang.aftercare.services import SIGNED, _owned, _task, _today, care_of, tasks_create
from yixiang.customers.models import Customer, Stage, ValueTier
from yixiang.errors import ValidationFailed

# --------------------------------------------------------------------------- value tiers


def tier_thresholds() -> rules.TierThresholds:
    return rules.TierThresholds(
        a_contribution=Decimal(conf("TIER_A_CONTRIBUTION")),
        a_funds=Decimal(conf("TIER_A_FUNDS")),
        b_contribution=Decimal(conf("TIER_B_CONTRIBUTION")),
        b_funds=Decimal(conf("TIER_B_FUNDS")),
        b_opportunities=int(conf("TIER_B_OPPORTUNITIES")),
        c_contribution=Decimal(conf("TIER_C_CONTRIBUTION")),
        c_funds=Decimal(conf("TIER_C_FUNDS")),
        c_opportunities=int(conf("TIER_C_OPPORTUNITIES")),
    )


def tier_inputs(customer_ids: Sequence[int], *, today: dt.date) -> dict[int, tuple[Decimal, int]]:
    """Per customer: (revenue in the window, open opportunities).

    Open opportunities: customers it referred who have not signed yet, plus contracts whose renewal
    talk is due (ending within RENEWAL_NOTICE_DAYS)."""
    since = today - dt.timedelta(days=conf("TIER_WINDOW_DAYS"))
    revenue = dict(
        Payment.objects.filter(customer_id__in=customer_ids, paid_on__gt=since, paid_on__lte=today)
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )
    opps: dict[int, int] = {}
    referred_open = (
        Customer.objects.filter(referrer_id__in=customer_ids, deleted_at__isnull=True, stage__gte=Stage.S0)
        .exclude(stage=SIGNED)
        .values_list("referrer_id", flat=True)
    )
    for rid in referred_open:
        opps[rid] = opps.get(rid, 0) + 1
    renewals = Contract.objects.filter(
        customer_id__in=customer_ids,
        status=Contract.Status.ACTIVE,
        end_date__gte=today,
        end_date__lte=today + dt.timedelta(days=conf("RENEWAL_NOTICE_DAYS")),
    ).values_list("customer_id", flat=True)
    for cid in renewals:
        opps[cid] = opps.get(cid, 0) + 1
    return {cid: (revenue.get(cid) or Decimal(0), opps.get(cid, 0)) for cid in customer_ids}


def _set_value_tier(
    customer_id: int, old: str, new: str, *, manual: bool, reason: str = "", by: User | None = None
) -> None:
    if old == new:
        return
    Customer.objects.filter(pk=customer_id).update(value_tier=new)
    TierChange.objects.create(customer_id=customer_id, from_tier=old, to_tier=new, manual=manual, reason=reason, by=by)


def tiers_recompute(*, today: dt.date | None = None, customers: QuerySet[Customer] | None = None) -> int:
    """Recompute the value tier of signed customers; a manual override wins. Returns changes."""
    today = today or _today()
    qs = customers if customers is not None else Customer.objects.filter(stage=SIGNED, deleted_at__isnull=True)
    rows = list(qs.values_list("pk", "funds_available", "value_tier"))
    if not rows:
        return 0
    thresholds = tier_thresholds()
    changed = 0
    ids = [r[0] for r in rows]
    inputs = tier_inputs(ids, today=today)
    cares = {c.customer_id: c for c in CustomerCare.objects.filter(customer_id__in=ids)}
    now = timezone.now()
    with transaction.atomic():
        for pk, funds, current in rows:
            revenue, opportunities = inputs[pk]
            computed = rules.value_tier(revenue, funds, opportunities, thresholds)
            care = cares.get(pk) or CustomerCare.objects.create(customer_id=pk)
            if care.computed_tier != computed:
                care.computed_tier = computed
                care.tier_computed_at = now
                care.save(update_fields=["computed_tier", "tier_computed_at"])
            effective = care.tier_override or computed
            if effective != current:
                _set_value_tier(pk, current, effective, manual=False, reason=_("computed"))
                changed += 1
    return changed


@transaction.atomic
def tier_override(*, actor: User, customer: Customer, tier: str, reason: str) -> CustomerCare:
    """Set the value tier by hand (with a reason), or clear the override with ``tier=""``."""
    reason = (reason or "").strip()
    if tier and tier not in ValueTier.values:
        raise ValidationFailed({"tier": [_("Choose tier A, B, C or D.")]})
    if tier and not reason:
        raise ValidationFailed({"reason": [_("Give a reason for setting the tier by hand.")]})
    care = care_of(customer)
    care.tier_override = tier
    care.tier_override_reason = reason[:300] if tier else ""
    care.tier_override_by = actor if tier else None
    care.tier_override_at = timezone.now() if tier else None
    care.save()
    current, funds = Customer.objects.values_list("value_tier", "funds_available").get(pk=customer.pk)
    if tier:
        effective = tier
    elif care.computed_tier:  # back to the last computation; the daily run refreshes it
        effective = care.computed_tier
    else:
        revenue, opportunities = tier_inputs([customer.pk], today=_today())[customer.pk]
        effective = rules.value_tier(revenue, funds, opportunities, tier_thresholds())
        care.computed_tier = effective
        care.tier_computed_at = timezone.now()
        care.save(update_fields=["computed_tier", "tier_computed_at"])
    _set_value_tier(customer.pk, current, effective, manual=True, reason=reason or _("override cleared"), by=actor)
    customer.value_tier = effective
    return care


# --------------------------------------------------------------------------- loyalty and lapsing


@transaction.atomic
def loyalty_set(*, actor: User, customer: Customer, level: str, note: str = "") -> CustomerCare:
    if level not in LoyaltyLevel.values:
        raise ValidationFailed({"level": [_("Choose a level of the loyalty ladder.")]})
    care = CustomerCare.objects.select_for_update().filter(pk=customer.pk).first() or care_of(customer)
    problem = loyalty_ladder.climb_problem(current=care.loyalty_level, new=level, note=note)
    if problem == loyalty_ladder.CLIMB_TOO_FAR:
        raise ValidationFailed({"level": [_("A customer climbs the loyalty ladder one level at a time.")]})
    if problem == loyalty_ladder.CLIMB_NO_EVIDENCE:
        raise ValidationFailed({"note": [_("Say what the customer did that shows the higher level.")]})
    if care.loyalty_level != level:
        LoyaltyChange.objects.create(
            customer=customer, from_level=care.loyalty_level, to_level=level, note=note.strip()[:300], by=actor
        )
        care.loyalty_level = level
        care.save(update_fields=["loyalty_level"])
    return care


def lapsing_scan(*, today: dt.date | None = None) -> int:
    """Signed customers with no purchase and no contact for LAPSE_DAYS: flag and a prevention task."""
    today = today or _today()
    lapse_days = conf("LAPSE_DAYS")
    qs = (
        _owned(Customer.objects.filter(stage=SIGNED))
        .annotate(last_paid=Max("payments__paid_on"))
        .values_list("pk", "name", "owner_id", "last_paid", "last_contact_at", "signed_at")
    )
    shipped = dict(
        Shipment.objects.filter(customer__stage=SIGNED)
        .values("customer_id")
        .annotate(last=Max("shipped_on"))
        .values_list("customer_id", "last")
    )
    cares = {c.customer_id: c for c in CustomerCare.objects.filter(customer__stage=SIGNED)}
    rows: list[CareTask] = []
    for pk, name, owner_id, last_paid, last_contact, signed_at in qs:
        last = rules.last_activity(
            [
                last_paid,
                shipped.get(pk),
                timezone.localtime(last_contact).date() if last_contact else None,
                timezone.localtime(signed_at).date() if signed_at else None,
            ]
        )
        lapsing = rules.is_lapsing(last, today, lapse_days)
        care = cares.get(pk)
        if lapsing:
            if care is None:
                care = CustomerCare.objects.create(customer_id=pk)
            if care.lapsing_since is None:
                care.lapsing_since = today
                care.save(update_fields=["lapsing_since"])
            customer = Customer(pk=pk, name=name)
            rows.append(
                _task(
                    CareTask.Kind.LAPSE, customer, owner_id, due_on=today, occasion_on=last,
                    title=_("%(name)s is lapsing: no purchase or contact since %(date)s") % {"name": name, "date": last.isoformat()},
                    suggestion=_("%(name)s, it has been a while — I wanted to share how your project is doing and some good "
                                 "news. When would suit you for a short chat?") % {"name": name},
                    key=f"lapse:{pk}:{last.isoformat()}",
                )
            )  # fmt: skip
        elif care is not None and care.lapsing_since is not None:
            care.lapsing_since = None
            care.save(update_fields=["lapsing_since"])
    return tasks_create(rows)


# --------------------------------------------------------------------------- referrals


@transaction.atomic
def referrer_type_set(*, actor: User, customer: Customer, referrer_type: str) -> CustomerCare:
    if referrer_type and referrer_type not in ReferrerType.values:
        raise ValidationFailed({"referrer_type": [_("Choose honour, practical or friendship.")]})
    care = care_of(customer)
    care.referrer_type = referrer_type
    care.save(update_fields=["referrer_type"])
    return care


@transaction.atomic
def referral_ask_log(
    *,
    actor: User,
    customer: Customer,
    prerequisites: Iterable[str],
    outcome: str,
    names_given: str = "",
    note: str = "",
    follow_up: Any = None,
) -> ReferralAsk:
    """Log a referral ask (or the decision not to ask yet) with the prerequisites that held.

    When the customer gave names, the referrer is thanked at once (seed 001 ends its referral
    steps with "谢谢"; seed 002: "表示感谢"): a thank-you task due today, not only once a name signs."""
    ticked = [code for code, _label in rules.REFERRAL_PREREQUISITES if code in set(prerequisites)]
    if outcome not in ReferralAsk.Outcome.values:
        raise ValidationFailed({"outcome": [_("Choose what came of the ask.")]})
    if follow_up is not None and follow_up.customer_id != customer.pk:
        raise ValidationFailed({"follow_up": [_("This follow-up belongs to another customer.")]})
    ask = ReferralAsk.objects.create(
        customer=customer, rep=actor, follow_up=follow_up, prerequisites=ticked, outcome=outcome,
        names_given=names_given.strip()[:300], note=note.strip()[:300],
    )  # fmt: skip
    if outcome == ReferralAsk.Outcome.GAVE_NAMES:
        _thank_for_names(ask, rep_id=customer.owner_id or actor.pk)
    return ask


def _thank_for_names(ask: ReferralAsk, *, rep_id: int) -> None:
    customer = ask.customer
    names = ask.names_given or _("the names they gave")
    tasks_create(
        [
            _task(
                CareTask.Kind.REFERRAL_THANKS, customer, rep_id, due_on=_today(),
                title=_("Thank %(referrer)s for the referral: %(names)s") % {"referrer": customer.name, "names": names},
                suggestion=_("%(referrer)s, thank you for introducing %(names)s to us; we will look after them well.")
                % {"referrer": customer.name, "names": names},
                key=f"referral-names:{ask.pk}",
            )
        ]
    )  # fmt: skip


def referral_ask_from_follow_up(*, follow_up_id: int, customer_id: int, rep_id: int) -> ReferralAsk:
    """An E-class follow-up ticked "referral asked" on its after-sale checklist: the ask is kept with
    the customer's other asks, linked to the follow-up (its note says what came of it)."""
    ask, _created = ReferralAsk.objects.get_or_create(
        follow_up_id=follow_up_id,
        outcome=ReferralAsk.Outcome.ASKED,
        defaults={"customer_id": customer_id, "rep_id": rep_id},
    )
    return ask


def on_customer_signed(customer: Customer) -> CareTask | None:
    """A referred customer signed: a thank-you task for the referrer's rep, and a reward record when
    the referrer is practical. Idempotent; also run by the periodic referral scan."""
    customer = Customer.objects.select_related("referrer").get(pk=customer.pk)
    referrer = customer.referrer
    if referrer is None or customer.stage != SIGNED or referrer.deleted_at is not None:
        return None
    rep_id = referrer.owner_id or customer.owner_id
    care = CustomerCare.objects.filter(pk=referrer.pk).first()
    with transaction.atomic():
        if care is not None and care.referrer_type == ReferrerType.PRACTICAL:
            ReferralReward.objects.get_or_create(
                referred=customer, defaults={"referrer": referrer, "amount": Decimal(conf("REFERRAL_REWARD_YUAN"))}
            )
        if rep_id is None:
            return None
        key = f"referral-thanks:{customer.pk}"
        extra = {
            ReferrerType.HONOUR: _("Thank them warmly, in front of others if they like."),
            ReferrerType.PRACTICAL: _("A referral reward has been recorded for them."),
            ReferrerType.FRIENDSHIP: _("Thank them as a friend would."),
        }.get(care.referrer_type if care else "", "")
        tasks_create(
            [
                _task(
                    CareTask.Kind.REFERRAL_THANKS, referrer, rep_id, due_on=_today(),
                    title=_("Thank %(referrer)s: %(name)s, whom they referred, has signed")
                    % {"referrer": referrer.name, "name": customer.name},
                    suggestion=(_("%(referrer)s, thank you for introducing %(name)s to us — they have just signed. "
                                  "We will take good care of them.") % {"referrer": referrer.name, "name": customer.name}
                                + (" " + extra if extra else "")),
                    key=key,
                )
            ]
        )  # fmt: skip
    return CareTask.objects.get(source_key=key)


def referral_scan() -> int:
    """Finds referred customers who signed and were not yet thanked (or rewarded); works without
    the pipeline calling ``on_customer_signed``."""
    thanked = CareTask.objects.filter(
        kind=CareTask.Kind.REFERRAL_THANKS, source_key__startswith="referral-thanks:"
    ).values_list("source_key", flat=True)
    thanked_ids = {int(k.rsplit(":", 1)[1]) for k in thanked}
    rewarded = set(ReferralReward.objects.values_list("referred_id", flat=True))
    practical = set(
        CustomerCare.objects.filter(referrer_type=ReferrerType.PRACTICAL).values_list("customer_id", flat=True)
    )
    done = 0
    candidates = Customer.objects.filter(
        referrer__isnull=False, stage=SIGNED, deleted_at__isnull=True, referrer__deleted_at__isnull=True
    ).values_list("pk", "referrer_id", "owner_id", "referrer__owner_id")
    for pk, referrer_id, owner_id, referrer_owner in candidates:
        needs_thanks = pk not in thanked_ids and (owner_id or referrer_owner)
        needs_reward = referrer_id in practical and pk not in rewarded
        if needs_thanks or needs_reward:
            on_customer_signed(Customer(pk=pk))
            done += 1
    return done


def referral_given_thanks(*, today: dt.date | None = None) -> int:
    """The referrer is thanked as soon as the referral is given, not only once it signs (seed 001):
    a thank-you task for each lead referred in the last REFERRAL_GIVEN_THANKS_DAYS days. Idempotent."""
    today = today or _today()
    since = timezone.now() - dt.timedelta(days=conf("REFERRAL_GIVEN_THANKS_DAYS"))
    given = CareTask.objects.filter(source_key__startswith="referral-given:").values_list("source_key", flat=True)
    done_ids = {int(k.rsplit(":", 1)[1]) for k in given}
    new = []
    for referred in (
        Customer.objects.filter(
            referrer__isnull=False, created_at__gte=since, deleted_at__isnull=True, referrer__deleted_at__isnull=True
        )
        .exclude(pk__in=done_ids)
        .select_related("referrer")
    ):
        rep_id = referred.referrer.owner_id or referred.owner_id
        if rep_id is None:
            continue
        new.append(
            _task(
                CareTask.Kind.REFERRAL_THANKS, referred.referrer, rep_id, due_on=today,
                title=_("Thank %(referrer)s for referring %(name)s")
                % {"referrer": referred.referrer.name, "name": referred.name},
                suggestion=_("%(referrer)s, thank you for introducing %(name)s to us; we will look after them well.")
                % {"referrer": referred.referrer.name, "name": referred.name},
                key=f"referral-given:{referred.pk}",
            )
        )  # fmt: skip
    tasks_create(new)
    return len(new)
