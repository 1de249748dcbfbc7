"""Leaving the tracked list, automatic recycling, locks and claim limits."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from yixiang.pipeline import rules

D = dt.date.fromisoformat
TODAY = D("2025-06-30")
LIMITS = {"policy": rules.RecyclePolicy(overdue_limit=30, hold_limit=180, recent_rise_days=30)}
RELEASE = {"min_contacts": 6, "no_rise_days": 60, "dm_attempts": 4}


def proposal(contacts=0, days=0, missed=0, reached=False):
    return rules.release_proposal(
        contacts_since_rise=contacts, days_since_rise=days, dm_missed=missed, dm_reached=reached, **RELEASE
    )


def test_six_contacts_and_sixty_days_without_a_rise_propose_a_release():
    assert proposal(contacts=6, days=60) == "no_rise"
    assert proposal(contacts=5, days=90) is None
    assert proposal(contacts=9, days=59) is None


def test_four_attempts_without_finding_the_decision_maker_propose_a_release():
    assert proposal(missed=4) == "no_decision_maker"
    assert proposal(missed=3) is None
    assert proposal(missed=6, reached=True) is None


def recycle(due=None, held=None, stage=2, locked=False, today=TODAY, rose=None, **policy):
    return rules.recycle_reason(
        today=today,
        next_due_on=D(due) if due else None,
        held_since=D(held) if held else None,
        rose_on=D(rose) if rose else None,
        stage=stage,
        locked=locked,
        policy=rules.RecyclePolicy(**{"overdue_limit": 30, "hold_limit": 180, "recent_rise_days": 30, **policy}),
    )


def test_overdue_by_more_than_thirty_days_recycles():
    assert recycle(due="2025-05-31") is None  # exactly 30 days overdue
    assert recycle(due="2025-05-30") == "overdue"  # 31 days


def test_held_more_than_180_days_without_signing_recycles():
    assert recycle(held="2025-01-01", due="2025-07-01") is None  # 180 days
    assert recycle(held="2024-12-31", due="2025-07-01") == "held_too_long"  # 181 days


def test_e_class_and_locked_customers_never_recycle():
    assert recycle(due="2024-01-01", held="2023-01-01", stage=5) is None
    assert recycle(due="2024-01-01", held="2023-01-01", locked=True) is None


def test_the_recycling_day_is_known_in_advance_for_the_warning():
    day = rules.recycle_on(next_due_on=D("2025-06-01"), held_since=D("2025-03-01"), stage=1, locked=False, **LIMITS)
    assert day == D("2025-07-02")  # 31 days after the due date
    assert recycle(due="2025-06-01", today=day) == "overdue"
    assert recycle(due="2025-06-01", today=day - dt.timedelta(days=1)) is None
    assert rules.recycle_on(next_due_on=D("2025-06-01"), held_since=None, stage=5, locked=False, **LIMITS) is None


def test_a_customer_whose_stage_rose_within_thirty_days_is_never_recycled():
    assert recycle(due="2025-04-01", rose="2025-06-01") is None  # 90 days overdue, rose 29 days ago
    assert recycle(due="2025-04-01", rose="2025-05-31") is None  # exactly 30 days
    assert recycle(due="2025-04-01", rose="2025-05-30") == "overdue"  # 31 days ago: no longer shielded


def test_the_held_without_signing_clock_restarts_on_each_stage_rise():
    # Taken 300 days ago, rose 100 days ago: held 100 days since the rise, not 300.
    assert recycle(held="2024-09-03", due="2025-07-01", rose="2025-03-22") is None
    assert recycle(held="2024-09-03", due="2025-07-01", rose="2024-12-31") == "held_too_long"  # 181 days


def test_every_recycling_rule_can_be_switched_off():
    assert recycle(due="2024-01-01", overdue_limit=None) is None
    assert recycle(held="2023-01-01", due="2025-07-01", hold_limit=None) is None
    assert recycle(due="2025-04-01", rose="2025-06-01", recent_rise_days=None) == "overdue"


def test_stage_three_and_four_wait_for_the_lead_unless_the_company_switches_that_off():
    assert rules.recycle_needs_lead(3, rules.RecyclePolicy())
    assert rules.recycle_needs_lead(4, rules.RecyclePolicy())
    assert not rules.recycle_needs_lead(2, rules.RecyclePolicy())
    assert not rules.recycle_needs_lead(4, rules.RecyclePolicy(hot_needs_lead=False))


@given(
    due_offset=st.integers(-400, 400),
    held_offset=st.integers(-400, 0),
    rose_offset=st.one_of(st.none(), st.integers(-400, 0)),
    overdue=st.one_of(st.none(), st.integers(1, 60)),
    hold=st.one_of(st.none(), st.integers(1, 200)),
    recent=st.one_of(st.none(), st.integers(1, 60)),
)
def test_the_warning_day_is_the_first_day_the_rule_recycles(
    due_offset, held_offset, rose_offset, overdue, hold, recent
):
    policy = rules.RecyclePolicy(overdue_limit=overdue, hold_limit=hold, recent_rise_days=recent)
    args = {
        "next_due_on": TODAY + dt.timedelta(days=due_offset),
        "held_since": TODAY + dt.timedelta(days=held_offset),
        "rose_on": None if rose_offset is None else TODAY + dt.timedelta(days=rose_offset),
        "stage": 1,
        "locked": False,
        "policy": policy,
    }
    day = rules.recycle_on(**args)
    if day is None:
        assert rules.recycle_reason(today=TODAY + dt.timedelta(days=900), **args) is None
        return
    assert rules.recycle_reason(today=day, **args) is not None
    assert rules.recycle_reason(today=day - dt.timedelta(days=1), **args) is None


def test_at_most_five_locks_and_no_lock_for_signed_customers():
    assert rules.lock_refusal(stage=2, locked_count=4, max_locks=5) is None
    assert rules.lock_refusal(stage=2, locked_count=5, max_locks=5) == "max_locks"
    assert rules.lock_refusal(stage=5, locked_count=0, max_locks=5) == "signed"


def claim(tracked=0, today_claims=0, left=None):
    return rules.claim_refusal(
        tracked_count=tracked,
        claims_today=today_claims,
        left_claimant_on=D(left) if left else None,
        today=TODAY,
        max_tracked=80,
        max_claims_per_day=10,
        reclaim_block_days=30,
    )


def test_claim_limits_say_which_limit_was_hit():
    assert claim(tracked=79, today_claims=9) is None
    assert claim(tracked=80) == "max_tracked"
    assert claim(today_claims=10) == "max_claims_per_day"


def test_the_former_owner_waits_thirty_days():
    assert claim(left="2025-06-01") == "reclaim_blocked"  # 29 days ago
    assert claim(left="2025-05-31") is None  # 30 days ago


def test_round_robin_deals_in_turn():
    assert rules.round_robin([1, 2, 3, 4, 5], ["a", "b"]) == [(1, "a"), (2, "b"), (3, "a"), (4, "b"), (5, "a")]
    assert rules.round_robin([1], []) == []


def test_by_region_keeps_leads_in_their_region_and_reports_the_rest():
    assigned, left = rules.by_region(
        [(1, "north"), (2, "south"), (3, "north"), (4, "west")], [("a", "north"), ("b", "north"), ("c", "south")]
    )
    assert assigned == [(1, "a"), (2, "c"), (3, "b")]
    assert left == [4]
