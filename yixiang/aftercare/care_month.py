"""The care calendar as a month: weeks Monday to Sunday, each day with its occasions (birthdays and
founding days, special days, payouts, festivals …). A read on top of ``selectors.care_calendar``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from yixiang.accounts.models import User
from yixiang.aftercare.selectors import Occasion, care_calendar


@dataclass
class DayCell:
    day: dt.date
    in_month: bool
    is_today: bool
    occasions: list[Occasion] = field(default_factory=list)


@dataclass(frozen=True)
class MonthView:
    month: dt.date  # the first of the month
    weeks: list[list[DayCell]]

    @property
    def prev_month(self) -> dt.date:
        return (self.month - dt.timedelta(days=1)).replace(day=1)

    @property
    def next_month(self) -> dt.date:
        return (self.month + dt.timedelta(days=32)).replace(day=1)

    @property
    def count(self) -> int:
        return sum(len(c.occasions) for w in self.weeks for c in w if c.in_month)


def parse_month(value: str | None, today: dt.date) -> dt.date:
    """``YYYY-MM`` to the first of that month; anything else is this month."""
    try:
        year, month = (int(p) for p in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def month_view(user: User, month: dt.date, *, today: dt.date) -> MonthView:
    """The grid's six weeks at most (under the calendar's 62-day cap), occasions sorted per day."""
    first = month.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    start = first - dt.timedelta(days=first.weekday())
    end = last + dt.timedelta(days=6 - last.weekday())
    by_day: dict[dt.date, list[Occasion]] = {}
    for o in care_calendar(user, start, end):
        by_day.setdefault(o.on, []).append(o)
    weeks, day = [], start
    while day <= end:
        weeks.append(
            [
                DayCell(d, d.month == first.month, d == today, by_day.get(d, []))
                for d in (day + dt.timedelta(days=i) for i in range(7))
            ]
        )
        day += dt.timedelta(days=7)
    return MonthView(first, weeks)
