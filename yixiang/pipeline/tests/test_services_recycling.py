"""The daily recycling job and the release-proposal refresh, on the real database."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from yixiang.aftercare import services_contracts
from yixiang.customers import display
from yixiang.customers.models import Customer, CustomerChange
from yixiang.errors import DomainError, LimitReached, ValidationFailed
from yixiang.pipeline import pool, selectors, services
from yixiang.pipeline.models import OwnerChange, ReleaseProposal, ReleaseReason
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def overdue_by(org, days, **extra):
    c = org.customer(org.rep, name=extra.pop("name", f"逾期{days}天"))
    return set_state(c, next_due_on=TODAY() - dt.timedelta(days=days), held_since=days_ago(10), **extra)


def test_overdue_more_than_thirty_days_returns_to_the_pool(org):
    gone = overdue_by(org, 31)
    kept = overdue_by(org, 30)
    result = pool.recycle_run()
    assert (result.overdue, result.held_too_long) == (1, 0)
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.owner is None and gone.next_due_on is None and gone.held_since is None
    assert kept.owner == org.rep
    change = OwnerChange.objects.get(customer=gone)
    assert (change.from_owner, change.to_owner, change.reason, change.detail) == (org.rep, None, "recycle", "overdue")
    # One record of the change: the timeline reads it, in words.
    assert not CustomerChange.objects.filter(customer=gone, action="owner").exists()
    with translation.override("en"):
        (entry,) = [v for v in display.timeline(gone, 10) if v.action == "owner changed"]
    assert entry.actor is None
    assert [(x.label, x.old, x.new, x.text) for x in entry.lines] == [
        ("Owner", org.rep.label, "Public pool", ""),
        ("Recycled to the pool", "", "", "not contacted in time"),
    ]


def test_held_more_than_180_days_without_signing_returns_to_the_pool(org):
    c = set_state(org.customer(org.rep), held_since=days_ago(182), next_due_on=TODAY() + dt.timedelta(days=2))
    fresh = set_state(org.customer(org.rep, name="新"), held_since=days_ago(100), next_due_on=TODAY())
    result = pool.recycle_run()
    assert result.held_too_long == 1
    assert Customer.objects.get(pk=c.pk).owner is None
    assert Customer.objects.get(pk=fresh.pk).owner == org.rep
    assert OwnerChange.objects.get(customer=c).detail == "held_too_long"


def test_locked_and_signed_customers_never_recycle(org):
    locked = overdue_by(org, 90, name="锁定")
    pool.customer_set_recycle_lock(actor=org.rep, customer=locked, locked=True)
    signed = org.customer(org.rep, name="E类")
    services_contracts.customer_sign(actor=org.rep, customer=signed, amount="7950")
    set_state(signed, next_due_on=TODAY() - dt.timedelta(days=90), held_since=days_ago(400))
    assert pool.recycle_run().recycled == 0
    assert Customer.objects.filter(owner=org.rep).count() == 2


def test_the_job_is_idempotent_and_works_in_batches(org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "RECYCLE_BATCH_SIZE": 2}
    customers = [overdue_by(org, 40 + i, name=f"批{i}") for i in range(5)]
    assert pool.recycle_run().recycled == 5
    assert pool.recycle_run().recycled == 0
    assert OwnerChange.objects.filter(reason="recycle").count() == 5
    assert not Customer.objects.filter(pk__in=[c.pk for c in customers], owner__isnull=False).exists()


def test_customers_given_an_owner_outside_the_pipeline_get_a_schedule(org):
    c = org.customer(org.rep)
    assert c.held_since is None and c.next_due_on is None
    pool.recycle_run()
    c.refresh_from_db()
    assert c.held_since == c.created_at and c.next_due_on == TODAY()


def test_the_former_owner_cannot_claim_a_recycled_customer_back(org):
    c = overdue_by(org, 45)
    pool.recycle_run()
    with pytest.raises(LimitReached):
        pool.claim_from_pool(actor=org.rep, customer=c)
    pool.claim_from_pool(actor=org.teammate, customer=c)


def test_the_rep_is_warned_on_the_agenda_two_days_before(org):
    warned = overdue_by(org, 29, name="还剩两天")
    quiet = overdue_by(org, 28, name="还剩三天")
    held = set_state(
        org.customer(org.rep, name="快满半年"), held_since=days_ago(179.5), next_due_on=TODAY() + dt.timedelta(days=5)
    )
    items = {i.customer_id: i for i in selectors.agenda_items(user=org.rep, day=TODAY())}
    assert items[warned.pk].recycle_on == TODAY() + dt.timedelta(days=2)
    assert items[quiet.pk].recycle_on is None
    assert items[held.pk].recycle_on is not None and items[held.pk].is_due is False
    # What the agenda warns about is exactly what the job takes two days later.
    result = pool.recycle_run(today=TODAY() + dt.timedelta(days=2))
    assert Customer.objects.get(pk=warned.pk).owner is None
    assert Customer.objects.get(pk=held.pk).owner is None
    assert Customer.objects.get(pk=quiet.pk).owner == org.rep
    assert result.recycled == 2


def _contacts(org, customer, n, start_days_ago, **kw):
    for i in range(n):
        services.followup_log(actor=org.rep, customer=customer, at=days_ago(start_days_ago - i), **kw)


def test_six_contacts_and_no_rise_for_sixty_days_is_proposed(org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "FOLLOWUP_BACKDATE_DAYS": 400}
    stuck = set_state(org.customer(org.rep, name="原地踏步"), held_since=days_ago(90))
    _contacts(org, stuck, 6, 50)
    young = set_state(org.customer(org.rep, name="刚接手"), held_since=days_ago(30))
    _contacts(org, young, 8, 25)
    rising = set_state(org.customer(org.rep, name="刚升级"), held_since=days_ago(90))
    _contacts(org, rising, 6, 60)
    services.followup_log(actor=org.rep, customer=rising, at=days_ago(10), stage=2)  # a rise 10 days ago
    out = pool.release_proposals_refresh()
    props = {p.customer_id: p for p in ReleaseProposal.objects.all()}
    assert set(props) == {stuck.pk}
    assert (props[stuck.pk].reason, props[stuck.pk].contacts, props[stuck.pk].owner) == ("no_rise", 6, org.rep)
    assert out["new"] == 1
    assert pool.release_proposals_refresh()["new"] == 0  # idempotent


def test_decision_maker_not_found_after_four_attempts_is_proposed(org):
    c = set_state(org.customer(org.rep, name="找不到老板"), held_since=days_ago(20))
    _contacts(org, c, 4, 10, decision_maker="missed", effective=False)
    other = set_state(org.customer(org.rep, name="找到了"), held_since=days_ago(20))
    _contacts(org, other, 4, 10, decision_maker="missed", effective=False)
    services.followup_log(actor=org.rep, customer=other, decision_maker="reached")
    pool.release_proposals_refresh()
    assert list(ReleaseProposal.objects.values_list("customer_id", "reason")) == [(c.pk, "no_decision_maker")]
    assert [p.customer_id for p in selectors.release_proposals(user=org.rep)] == [c.pk]


def test_a_dismissed_proposal_stays_quiet_and_a_rise_clears_it(org):
    c = set_state(org.customer(org.rep), held_since=days_ago(20))
    _contacts(org, c, 4, 10, decision_maker="missed")
    pool.release_proposals_refresh()
    pool.release_proposal_dismiss(actor=org.rep, customer=c)
    pool.release_proposals_refresh()
    assert selectors.release_proposals(user=org.rep) == []
    assert ReleaseProposal.objects.filter(customer=c).exists()  # remembered as dismissed
    services.followup_log(actor=org.rep, customer=c, stage=1)
    assert not ReleaseProposal.objects.filter(customer=c).exists()


# --- Recycling spares recent rises and waits for the lead at stages 3–4 (issue 15) -------------


def test_recycling_never_takes_a_customer_whose_stage_rose_within_thirty_days(org):
    rose = overdue_by(org, 60, name="刚升过", stage=2, stage_rose_at=days_ago(29.5))
    old_rise = overdue_by(org, 60, name="很久前升过", stage=2, stage_rose_at=days_ago(31.5))
    pool.recycle_run()
    assert Customer.objects.get(pk=rose.pk).owner == org.rep
    assert Customer.objects.get(pk=old_rise.pk).owner is None


def test_a_logged_rise_restarts_the_held_without_signing_clock(org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "RECYCLE_OVERDUE_DAYS": None}  # the hold rule alone
    c = set_state(org.customer(org.rep, name="半年前接手"), held_since=days_ago(200), next_due_on=TODAY())
    services.followup_log(actor=org.rep, customer=c, stage=1)
    c.refresh_from_db()
    assert c.stage_rose_at is not None
    # 40 days later: past the recent-rise shield, held 200+40 days, but only 40 since the rise.
    assert pool.recycle_run(today=TODAY() + dt.timedelta(days=40)).held_too_long == 0
    assert Customer.objects.get(pk=c.pk).owner == org.rep
    # 181 days after the rise it goes.
    assert pool.recycle_run(today=TODAY() + dt.timedelta(days=182)).held_too_long == 1


def test_stage_three_and_four_become_a_proposal_to_the_lead_instead_of_recycling(org):
    hot = overdue_by(org, 45, name="考虑签约", stage=3)
    result = pool.recycle_run()
    assert (result.recycled, result.proposed_to_lead) == (0, 1)
    assert Customer.objects.get(pk=hot.pk).owner == org.rep
    assert [p.customer_id for p in pool.recycle_proposals_for(org.lead1)] == [hot.pk]
    assert pool.recycle_proposals_for(org.rep) == []  # a rep does not confirm
    assert pool.recycle_run().proposed_to_lead == 0  # no second proposal for the same customer
    with pytest.raises(DomainError):
        pool.recycle_proposal_decide(actor=org.lead2, customer=hot, recycle=True)  # not their team
    pool.recycle_proposal_decide(actor=org.lead1, customer=hot, recycle=True)
    assert Customer.objects.get(pk=hot.pk).owner is None
    change = OwnerChange.objects.get(customer=hot)
    assert (change.reason, change.detail, change.by) == ("recycle", "overdue", org.lead1)


def test_a_lead_may_keep_a_stage_four_customer_with_the_rep(org):
    hot = overdue_by(org, 45, name="已决定签约", stage=4)
    pool.recycle_run()
    pool.recycle_proposal_decide(actor=org.lead1, customer=hot, recycle=False)
    assert pool.recycle_run().proposed_to_lead == 0  # kept: quiet for the snooze period
    assert Customer.objects.get(pk=hot.pk).owner == org.rep
    assert pool.recycle_proposals_for(org.lead1) == []


def test_stage_three_goes_like_any_other_when_the_company_switches_the_confirmation_off(org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "RECYCLE_HOT_NEEDS_LEAD": False}
    hot = overdue_by(org, 45, name="考虑签约", stage=3)
    assert pool.recycle_run().overdue == 1
    assert Customer.objects.get(pk=hot.pk).owner is None


def test_each_recycling_rule_can_be_switched_off(org, settings):
    settings.YIXIANG = {**settings.YIXIANG, "RECYCLE_OVERDUE_DAYS": None, "RECYCLE_HOLD_DAYS": None}
    set_state(org.customer(org.rep), next_due_on=TODAY() - dt.timedelta(days=400), held_since=days_ago(400))
    assert pool.recycle_run().recycled == 0
    assert all(i.recycle_on is None for i in selectors.agenda_items(user=org.rep, day=TODAY()))


def test_the_agenda_warning_respects_the_recent_rise_shield(org):
    shielded = overdue_by(org, 29, name="刚升过", stage=2, stage_rose_at=days_ago(5))
    items = {i.customer_id: i for i in selectors.agenda_items(user=org.rep, day=TODAY())}
    assert items[shielded.pk].recycle_on is None  # the shield lasts until day 31 after the rise
    assert pool.recycle_run(today=TODAY() + dt.timedelta(days=2)).recycled == 0


# --- Releasing: the seed's reasons, read by the next owner ---------------------------------------


def test_releasing_asks_for_one_of_the_four_reasons_or_other_with_text(org):
    c = org.customer(org.rep)
    with pytest.raises(ValidationFailed):
        pool.customer_release(actor=org.rep, customer=c, reason="bored")
    with pytest.raises(ValidationFailed):
        pool.customer_release(actor=org.rep, customer=c, reason="other", note="  ")
    assert {v for v, _label in ReleaseReason.choices} == {
        "no_rise",
        "no_decision_maker",
        "rep_mistake",
        "pushed_too_hard",
        "other",
    }


def test_the_next_owner_sees_why_the_customer_was_released_and_its_history(org):
    c = org.customer(org.rep, name="推得太紧")
    services.followup_log(actor=org.rep, customer=c, summary="第一次聊")
    pool.customer_release(actor=org.rep, customer=c, reason="pushed_too_hard", note="催了三次")
    pool.claim_from_pool(actor=org.teammate, customer=c)
    why = pool.leaving_reason(c)
    assert (why.detail, why.note, why.from_owner) == ("pushed_too_hard", "催了三次", org.rep)
    assert why.get_detail_display() == str(ReleaseReason.PUSHED_TOO_HARD.label)
    assert c.follow_ups.filter(summary="第一次聊").exists()  # the history stays with the customer
