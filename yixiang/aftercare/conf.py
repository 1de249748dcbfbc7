"""Every number of the after-sale method (DOMAIN.md §3, issue 4), with its default.

Override any of them in ``settings.YIXIANG`` (e.g. ``YIXIANG["PAYOUT_NOTICE_DAYS"] = 10``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from yixiang.conf import reader

DEFAULTS: dict[str, Any] = {
    # How long the person who marked a payout paid or recorded a payment may undo it.
    "UNDO_MINUTES": 10,
    # --- Contracts and payouts
    # Tell the customer this many days before a payout.
    "PAYOUT_NOTICE_DAYS": 7,
    # A scheduled payout not marked paid this many days after its due date is late (an incident).
    "PAYOUT_LATE_GRACE_DAYS": 0,
    # Talk about renewal this many days before a contract ends ("one month before").
    "RENEWAL_NOTICE_DAYS": 30,
    # --- Value tiers (contribution = payments in the window; potential = funds + open opportunities)
    "TIER_WINDOW_DAYS": 365,
    "TIER_A_CONTRIBUTION": Decimal("100000"),
    "TIER_A_FUNDS": Decimal("200000"),
    "TIER_B_CONTRIBUTION": Decimal("30000"),
    "TIER_B_FUNDS": Decimal("50000"),
    "TIER_B_OPPORTUNITIES": 2,
    "TIER_C_CONTRIBUTION": Decimal("1"),
    "TIER_C_FUNDS": Decimal("1"),
    "TIER_C_OPPORTUNITIES": 1,
    # The 80/20 view: the share of customers counted as "the top".
    "PARETO_TOP_SHARE": Decimal("0.2"),
    # --- Care calendar
    # Care tasks are created this many days before the occasion, so they show up in the care list.
    "CARE_LOOKAHEAD_DAYS": 7,
    # The task is due this many days before the occasion (0 = on the day).
    "CARE_LEAD_DAYS": {"birthday": 0, "festival": 0, "special_day": 0, "life_event": 1},
    # Who gets greetings: "signed" (E-class customers) or "owned" (every customer a rep holds).
    "BIRTHDAY_SCOPE": "owned",
    "FESTIVAL_SCOPE": "signed",
    # Festival codes greeted (see rules.FESTIVALS).
    "FESTIVALS": [
        "new_year",
        "spring_festival",
        "lantern",
        "womens_day",
        "mothers_day",
        "dragon_boat",
        "fathers_day",
        "teachers_day",
        "mid_autumn",
        "national_day",
        "double_ninth",
        "christmas",
    ],
    # --- Lapsing: no purchase and no contact for this long.
    "LAPSE_DAYS": 90,
    # --- Lifecycle: purchases that make a "loyal client".
    "LOYAL_MIN_PURCHASES": 3,
    # Qualified prospect: at least this intent stage (or this share of the qualification checklist).
    "PROSPECT_MIN_STAGE": 1,
    "PROSPECT_MIN_QUALIFICATION_PERCENT": 50,
    # --- Referrals: reward for practical referrers (yuan), recorded when the referred customer signs.
    "REFERRAL_REWARD_YUAN": Decimal("500"),
    # A lead referred within this many days gets its referrer a thank-you task (the daily scan
    # does not thank the whole history at once).
    "REFERRAL_GIVEN_THANKS_DAYS": 14,
    "REFERRAL_TREE_DEPTH": 5,
    # --- Campaigns and messages
    # Watch replies this long, then non-repliers become call tasks ("half a day").
    "REPLY_WINDOW_HOURS": 12,
    # A message claimed longer ago than this without an outcome is "in doubt" and gets recovered.
    "SEND_CLAIM_TIMEOUT_MINUTES": 10,
    # A message whose provider was unreachable is tried this many times before it counts as failed.
    "SEND_MAX_ATTEMPTS": 3,
    # Messages sent per worker batch.
    "SEND_BATCH_SIZE": 50,
    # When the preferred channel cannot carry a text, try these in order.
    "CHANNEL_FALLBACK": ["sms", "email", "wechat"],
    # Unit costs in yuan (DOMAIN.md §3: SMS to 100 customers ≈ 20 yuan).
    "COST_SMS": Decimal("0.20"),
    "COST_EMAIL": Decimal("0"),
    "COST_ROBOT": Decimal("0"),
    "COST_CALL_PER_MINUTE": Decimal("0.10"),
    "CALL_DEFAULT_MINUTES": 3,
    # SMS provider (Yunpian v2 API format). The API key also signs inbound reply pushes.
    "SMS_PROVIDER_URL": "https://sms.yunpian.com/v2/sms/single_send.json",
    "SMS_RECORD_URL": "https://sms.yunpian.com/v2/sms/get_record.json",
    "SMS_API_KEY": "",
    "SMS_SIGNATURE": "意向",
    # Group robot for customers who prefer WeChat: "wecom" or "dingtalk"; the webhook URL and
    # (DingTalk only) the signing secret. The message reaches the rep's group for forwarding.
    "ROBOT_KIND": "wecom",
    "ROBOT_WEBHOOK_URL": "",
    "ROBOT_SECRET": "",
    "HTTP_TIMEOUT_SECONDS": 10,
}


conf = reader(DEFAULTS)  # settings.YIXIANG wins over the default
