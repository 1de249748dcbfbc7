"""Release, claim (with its limits), locks, hand-over, signing and distribution."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from yixiang.aftercare import services_contracts
from yixiang.aftercare.models import Contract, Payment
from yixiang.customers import display
from yixiang.customers.models import CustomerChange, Stage
from yixiang.errors import Conflict, DomainError, LimitReached, ValidationFailed
from yixiang.pipeline import pool, services
from yixiang.pipeline.models import CustomerProfile, OwnerChange, StageChange
from yixiang.pipeline.tests.factories import days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    def _set(**values):
        settings.YIXIANG = {**settings.YIXIANG, **values}

    return _set


def test_release_sends_the_customer_to_the_pool_with_its_history(org):
    c = org.customer(org.rep)
    services.followup_log(actor=org.rep, customer=c, stage=1)
    pool.customer_release(actor=org.rep, customer=c, reason="no_rise")
    c.refresh_from_db()
    assert c.owner is None and c.stage == 1 and c.held_since is None
    change = OwnerChange.objects.get(customer=c)
    assert (change.from_owner, change.to_owner, change.reason, change.detail) == (org.rep, None, "release", "no_rise")
    assert c.follow_ups.count() == 1  # the history goes along
    # One record of the change: the timeline reads it, in words, with the release reason.
    assert not CustomerChange.objects.filter(customer=c, action="owner").exists()
    with translation.override("en"):
        (entry,) = [v for v in display.timeline(c, 10) if v.action == "owner changed"]
    assert entry.actor == org.rep
    assert [(x.label, x.old, x.new, x.text) for x in entry.lines] == [
        ("Owner", org.rep.label, "Public pool", ""),
        ("Release reason", "", "", "Many contacts, the stage does not rise (polite refusal)"),
    ]


def test_an_owner_row_written_before_beside_its_owner_change_shows_once(org):
    c = org.customer(org.rep)
    pool.customer_release(actor=org.rep, customer=c, reason="no_rise")
    # Before, every owner change also wrote an archive "owner" row: old customers have both.
    CustomerChange.objects.create(
        customer=c, actor=org.rep, action="owner", changes={"owner": [org.rep.label, None], "reason": "release:no_rise"}
    )
    with translation.override("en"):
        actions = [v.action for v in display.timeline(c, 10)]
    assert actions.count("owner changed") == 1 and actions[-1] == "created"
    assert all(r.action != "owner" for r in display.customer_history(customer=c))


def test_release_other_needs_a_text_and_unknown_reasons_are_refused(org):
    c = org.customer(org.rep)
    with pytest.raises(ValidationFailed):
        pool.customer_release(actor=org.rep, customer=c, reason="other")
    with pytest.raises(ValidationFailed):
        pool.customer_release(actor=org.rep, customer=c, reason="bored")
    pool.customer_release(actor=org.rep, customer=c, reason="other", note="客户公司已注销")
    assert OwnerChange.objects.get(customer=c).note == "客户公司已注销"


def test_signed_customers_are_not_released(org):
    c = org.customer(org.rep)
    services_contracts.customer_sign(actor=org.rep, customer=c, amount="7950")
    with pytest.raises(DomainError):
        pool.customer_release(actor=org.rep, customer=c, reason="no_rise")


def test_claim_takes_a_pool_customer_and_records_it(org):
    c = org.customer(None)
    pool.claim_from_pool(actor=org.rep, customer=c)
    c.refresh_from_db()
    assert c.owner == org.rep and c.held_since is not None and c.next_due_on == timezone.localdate()
    assert OwnerChange.objects.get(customer=c).reason == "claim"


def test_claiming_an_owned_customer_is_a_conflict(org):
    c = org.customer(org.teammate)
    with pytest.raises(Conflict):
        pool.claim_from_pool(actor=org.rep, customer=c)


def test_claim_limit_on_tracked_customers_says_so(org, limits):
    limits(MAX_TRACKED=2)
    org.customer(org.rep, name="甲")
    org.customer(org.rep, name="乙")
    with pytest.raises(LimitReached) as exc:
        pool.claim_from_pool(actor=org.rep, customer=org.customer(None, name="丙"))
    assert exc.value.code == "max_tracked" and "2" in exc.value.message


def test_signed_customers_do_not_count_against_the_tracked_limit(org, limits):
    limits(MAX_TRACKED=1)
    services_contracts.customer_sign(actor=org.rep, customer=org.customer(org.rep), amount="100")
    fresh = org.customer(None, name="新")
    pool.claim_from_pool(actor=org.rep, customer=fresh)
    fresh.refresh_from_db()
    assert fresh.owner == org.rep
    assert OwnerChange.objects.get(customer=fresh).reason == "claim"


def test_claim_limit_per_day(org, limits):
    limits(MAX_CLAIMS_PER_DAY=2)
    for name in ("甲", "乙"):
        pool.claim_from_pool(actor=org.rep, customer=org.customer(None, name=name))
    with pytest.raises(LimitReached) as exc:
        pool.claim_from_pool(actor=org.rep, customer=org.customer(None, name="丙"))
    assert exc.value.code == "max_claims_per_day"
    # Another rep is not affected.
    pool.claim_from_pool(actor=org.teammate, customer=org.customer(None, name="丁"))


def test_the_former_owner_cannot_claim_back_for_thirty_days(org):
    c = org.customer(org.rep)
    pool.customer_release(actor=org.rep, customer=c, reason="no_rise")
    with pytest.raises(LimitReached) as exc:
        pool.claim_from_pool(actor=org.rep, customer=c)
    assert exc.value.code == "reclaim_blocked"
    OwnerChange.objects.filter(customer=c).update(at=days_ago(30))
    pool.claim_from_pool(actor=org.rep, customer=c)


def test_someone_else_may_claim_a_released_customer_at_once(org):
    c = org.customer(org.rep)
    pool.customer_release(actor=org.rep, customer=c, reason="no_decision_maker")
    pool.claim_from_pool(actor=org.teammate, customer=c)
    c.refresh_from_db()
    assert c.owner == org.teammate


def test_at_most_five_locks_per_rep(org):
    customers = [org.customer(org.rep, name=f"客户{i}") for i in range(6)]
    for c in customers[:5]:
        pool.customer_set_recycle_lock(actor=org.rep, customer=c, locked=True)
    with pytest.raises(LimitReached):
        pool.customer_set_recycle_lock(actor=org.rep, customer=customers[5], locked=True)
    pool.customer_set_recycle_lock(actor=org.rep, customer=customers[0], locked=False)
    pool.customer_set_recycle_lock(actor=org.rep, customer=customers[5], locked=True)


def test_signed_customers_need_no_lock(org):
    c = org.customer(org.rep)
    services_contracts.customer_sign(actor=org.rep, customer=c, amount="100")
    with pytest.raises(DomainError):
        pool.customer_set_recycle_lock(actor=org.rep, customer=c, locked=True)


def test_sign_records_the_deal_and_makes_an_e_class_customer(org):
    c = org.customer(org.rep, name="签约客户")
    services.followup_log(actor=org.rep, customer=c, stage=4)
    contract = services_contracts.customer_sign(
        actor=org.rep, customer=c, amount="36000", paid_amount="30000", signed_on=timezone.localdate()
    )
    c.refresh_from_db()
    assert c.stage == Stage.SIGNED and c.signed_at is not None
    assert contract.amount == Decimal("36000.00") and contract.signed_by == org.rep
    assert Contract.objects.filter(customer=c).count() == 1
    assert Payment.objects.get(customer=c).amount == Decimal("30000.00")
    assert StageChange.objects.filter(customer=c, from_stage=4, to_stage=5).exists()
    # E class: next contact in 15 days (twice a month), moved off days off.
    assert c.next_due_on >= timezone.localdate() + dt.timedelta(days=15)


def test_sign_without_payment_records_no_payment_and_twice_is_a_conflict(org):
    c = org.customer(org.rep)
    services_contracts.customer_sign(actor=org.rep, customer=c, amount="100")
    assert not Payment.objects.filter(customer=c).exists()
    with pytest.raises(Conflict):
        services_contracts.customer_sign(actor=org.rep, customer=c, amount="100")


def test_sign_validates_the_amount_and_date(org):
    c = org.customer(org.rep)
    with pytest.raises(ValidationFailed):
        services_contracts.customer_sign(actor=org.rep, customer=c, amount="0")
    with pytest.raises(ValidationFailed):
        services_contracts.customer_sign(actor=org.rep, customer=c, amount="abc")
    with pytest.raises(ValidationFailed):
        services_contracts.customer_sign(
            actor=org.rep, customer=c, amount="10", signed_on=timezone.localdate() + dt.timedelta(days=1)
        )
    assert not Contract.objects.exists()


def test_hand_over_by_a_lead_within_the_team(org):
    c = org.customer(org.rep)
    pool.customer_hand_over(actor=org.lead1, customer=c, to_user=org.teammate, note="rep 休假")
    c.refresh_from_db()
    assert c.owner == org.teammate
    change = OwnerChange.objects.get(customer=c)
    assert (change.from_owner, change.to_owner, change.reason, change.by) == (
        org.rep,
        org.teammate,
        "handover",
        org.lead1,
    )


def test_reps_cannot_hand_over_and_leads_not_outside_their_scope(org):
    c = org.customer(org.rep)
    with pytest.raises(DomainError):
        pool.customer_hand_over(actor=org.rep, customer=c, to_user=org.teammate)
    with pytest.raises(ValidationFailed):
        pool.customer_hand_over(actor=org.lead1, customer=c, to_user=org.outsider)


def test_round_robin_distribution_with_a_first_contact_deadline(org):
    leads = [org.customer(None, name=f"名单{i}") for i in range(5)]
    deadline = timezone.now() + dt.timedelta(hours=4)
    result = pool.distribute_customers(
        actor=org.lead1,
        customer_ids=[c.pk for c in leads],
        method="round_robin",
        rep_ids=[org.rep.pk, org.teammate.pk],
        first_contact_by=deadline,
    )
    owners = [result.assigned[c.pk] for c in leads]
    assert owners == [org.rep.pk, org.teammate.pk, org.rep.pk, org.teammate.pk, org.rep.pk]
    assert OwnerChange.objects.filter(reason="distribute", distribution=result.distribution).count() == 5
    assert CustomerProfile.objects.get(customer=leads[0]).first_contact_due_at == deadline
    leads[0].refresh_from_db()
    assert leads[0].next_due_on == timezone.localtime(deadline).date()
    # The first follow-up meets the deadline.
    services.followup_log(actor=org.rep, customer=leads[0], stage=0)
    assert CustomerProfile.objects.get(customer=leads[0]).first_contact_due_at is None


def test_distribution_by_region_and_by_hand(org):
    north = org.customer(None, name="北方客户", region=org.north)
    south = org.customer(None, name="南方客户", region=org.south)
    result = pool.distribute_customers(
        actor=org.admin, customer_ids=[north.pk, south.pk], method="region", rep_ids=[org.rep.pk, org.outsider.pk]
    )
    assert result.assigned == {north.pk: org.rep.pk, south.pk: org.outsider.pk}
    other = org.customer(None, name="手工")
    result = pool.distribute_customers(
        actor=org.lead1, customer_ids=[other.pk], method="by_hand", by_hand={other.pk: org.teammate.pk}
    )
    assert result.assigned == {other.pk: org.teammate.pk}


def test_distribution_refuses_reps_and_customers_outside_the_scope(org):
    lead = org.customer(None)
    with pytest.raises(ValidationFailed):
        pool.distribute_customers(
            actor=org.lead1, customer_ids=[lead.pk], method="round_robin", rep_ids=[org.outsider.pk]
        )
    foreign = org.customer(org.outsider)
    with pytest.raises(ValidationFailed):
        pool.distribute_customers(
            actor=org.lead1, customer_ids=[foreign.pk], method="round_robin", rep_ids=[org.rep.pk]
        )
    with pytest.raises(DomainError):
        pool.distribute_customers(actor=org.rep, customer_ids=[lead.pk], method="round_robin", rep_ids=[org.rep.pk])
