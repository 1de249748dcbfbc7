"""Month arithmetic, once for every app (incentive months, report buckets, care months)."""

from __future__ import annotations

import calendar
import datetime as dt


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after (before, if negative) ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + n
    return dt.date(index // 12, index % 12 + 1, 1)
