"""Leaving the tracked list, automatic recycling, locks and claim limits."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from yixiang.pipeline import rules

D = dt.date.fromisoformat
TODAY = D("2025-06-30")
LIMITS = {"overdue_limit": 30, "hold_limit": 180}
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


def recycle(due=None, held=None, stage=2, locked=False, today=TODAY):
    return rules.recycle_reason(
        today=today,
        next_due_on=D(due) if due else None,
        held_since=D(held) if held else None,
        stage=stage,
        locked=locked,
        **LIMITS,
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


@given(
    due_offset=st.integers(-400, 400),
    held_offset=st.integers(-400, 400),
    ahead=st.integers(0, 5),
)
def test_the_sql_cutoffs_say_the_same_as_the_rule(due_offset, held_offset, ahead):
    due = TODAY + dt.timedelta(days=due_offset)
    held = TODAY + dt.timedelta(days=held_offset)
    due_before, held_before = rules.recycle_cutoffs(TODAY, ahead=ahead, **LIMITS)
    by_sql = due < due_before or held < held_before
    by_rule = (
        rules.recycle_reason(
            today=TODAY + dt.timedelta(days=ahead), next_due_on=due, held_since=held, stage=1, locked=False, **LIMITS
        )
        is not None
    )
    assert by_sql == by_rule


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
