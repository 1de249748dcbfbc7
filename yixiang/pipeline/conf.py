"""Every number of the intent-lifting method, with DOMAIN.md's default.

Override any of them in ``settings.YIXIANG`` (e.g. ``YIXIANG["RECYCLE_OVERDUE_DAYS"] = 45``)."""

from __future__ import annotations

from typing import Any

from yixiang.conf import reader

DEFAULTS: dict[str, Any] = {
    # Cadence: contact at least every N days, per stage (-1 rejecting … 4; 5 = E class).
    # E class is "twice a month", i.e. every 15 days.
    "CADENCE_DAYS": {-1: 30, 0: 15, 1: 7, 2: 7, 3: 3, 4: 3, 5: 15},
    # Due dates from the cadence that fall on a statutory day off move off it: at stages 3–4 to the
    # last working day before (never later); slower cadences as HOLIDAY_SHIFT_SLOWER says:
    # "next" working day, "previous" working day, or "none" (stay on the day off).
    "HOLIDAY_SHIFT": True,
    "HOLIDAY_SHIFT_SLOWER": "next",
    # From this month on, an administrator is asked to enter next year's statutory calendar.
    "HOLIDAY_CALENDAR_WARN_MONTH": 12,
    # E-class contacts are suggested late in the day.
    "SIGNED_SUGGEST_AFTER": "16:00",
    # Tracked-list targets per band and the tolerated deviation (0.25 = ±25 %).
    "BALANCE_TARGETS": {"0": 20, "1-2": 40, "3-4": 10},
    "BALANCE_TOLERANCE": 0.25,
    # Proposals to release (踢出).
    "RELEASE_MIN_CONTACTS": 6,
    "RELEASE_NO_RISE_DAYS": 60,
    "RELEASE_DM_ATTEMPTS": 4,
    # A dismissed proposal stays quiet this long.
    "RELEASE_PROPOSAL_SNOOZE_DAYS": 30,
    # Automatic recycling to the public pool. Each rule can be switched off with None.
    "RECYCLE_OVERDUE_DAYS": 30,
    # Held this long without signing, counted from when the rep took it or its last stage rise.
    "RECYCLE_HOLD_DAYS": 180,
    # A customer whose stage rose within this many days is never recycled (None: no such shield).
    "RECYCLE_RECENT_RISE_DAYS": 30,
    # Stage 3–4 customers are not recycled but proposed to the lead, who confirms or keeps them.
    "RECYCLE_HOT_NEEDS_LEAD": True,
    "RECYCLE_WARN_DAYS": 2,
    "RECYCLE_LOCKS_PER_REP": 5,
    "RECYCLE_BATCH_SIZE": 2000,
    # Claiming from the pool.
    "MAX_TRACKED": 80,
    "MAX_CLAIMS_PER_DAY": 10,
    "RECLAIM_BLOCK_DAYS": 30,
    # Follow-up records: how far back a record may be dated; clock skew tolerated for "now".
    "FOLLOWUP_BACKDATE_DAYS": 60,
    "FOLLOWUP_FUTURE_TOLERANCE_SECONDS": 120,
    # Judgment accuracy: a stage-3/4 judgment counts as right when the customer signs within this.
    "ACCURACY_SIGN_WITHIN_DAYS": 90,
    # Distribution: default time allowed for the first contact of a distributed lead.
    "FIRST_CONTACT_HOURS": 24,
    # Where the signals checklist and the keyword rules live (data, not code).
    "PLAYBOOK_FILE": "",
    "KEYWORD_RULES_FILE": "",
}


conf = reader(DEFAULTS)  # settings.YIXIANG wins over the default
