"""Every number of the reports, the daily digest and the calendar feed, with its default.

Override any of them in ``settings.YIXIANG`` (e.g. ``YIXIANG["DIGEST_DEFAULT_TIME"] = "08:00"``).
The tracked-list targets, payout and renewal notice days and the Pareto share are read from the
pipeline and after-sale settings, so each number has one home."""

from __future__ import annotations

from typing import Any

from yixiang.conf import reader

DEFAULTS: dict[str, Any] = {
    # Reports: the default period when none is given (days back from today).
    "REPORT_DEFAULT_DAYS": 30,
    # A stage's win rate is shown only when at least this many customers have been in it.
    "WIN_RATE_MIN_SAMPLE": 5,
    # The pool's share of the win-chance tables (and the owned customers' for admins and directors)
    # is a snapshot (reports.models.WinRateSnapshot) the worker recounts every this many minutes
    # (at 1M customers a recount of every part is some 30 s of database time) ...
    "WIN_RATE_SNAPSHOT_MINUTES": 15,
    # ... and a page recounts it itself when it is missing or older than this (the worker is down):
    # so the figures shown lag the history by at most this long.
    "WIN_RATE_SNAPSHOT_MAX_AGE_MINUTES": 60,
    # The nightly funnel snapshot (reports.funnel_snapshots) also fills days it missed (a worker
    # that was down), at most this many days back; older gaps are replayed live or backfilled.
    "FUNNEL_SNAPSHOT_CATCHUP_DAYS": 7,
    # Rows listed in the "due" tables (payouts, renewals, lapsing) of a report page.
    "REPORT_LIST_LIMIT": 100,
    # Points drawn on the Pareto curve (the curve is sampled, the top share is exact).
    "PARETO_CURVE_POINTS": 50,
    # Figures over time show at most this many weeks or months (the latest ones).
    "REPORT_MAX_PERIODS": 26,
    # Incentive totals cover at most this many months (the latest of the period).
    "REPORT_MAX_MONTHS": 12,
    # --- Daily digest
    "DIGEST_DEFAULT_TIME": "08:30",
    "DIGEST_DEFAULT_CHANNELS": ["email"],
    # Send a digest even on a day with nothing on the agenda.
    "DIGEST_SEND_EMPTY": False,
    # A failed send (nothing left our side) is retried by later runs up to this many attempts.
    "DIGEST_MAX_ATTEMPTS": 3,
    # Customers listed by name in one digest; the rest are counted.
    "DIGEST_MAX_ITEMS": 30,
    "DIGEST_HTTP_TIMEOUT_SECONDS": 10,
    # How often the worker looks for digests that are due (minutes).
    "DIGEST_POLL_MINUTES": 5,
    # --- Calendar feed: the window of events it carries around today.
    "CALENDAR_PAST_DAYS": 30,
    "CALENDAR_FUTURE_DAYS": 120,
}


conf = reader(DEFAULTS)  # settings.YIXIANG wins over the default
