"""The statutory calendar's seed: the ``chinesecalendar`` package, copied into ``HolidayDay``.

The table is what the product reads (an administrator can correct it or enter a year the package
does not know); the package only fills years the table has no row for, after every migrate and
every test-database flush (the post_migrate signal), so an edited year is never overwritten."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar

OFF, WORKDAY = "off", "workday"


def _chinese_name(holiday: Any) -> str:
    # chinese_calendar's values are "National Day" …; its Holiday enum carries the Chinese name.
    for member in chinese_calendar.Holiday:
        if member.value == str(holiday):
            return member.chinese
    return str(holiday)


def package_days() -> list[tuple[dt.date, str, str]]:
    """(date, "off"/"workday", name) for every day the package marks, by date."""
    rows = [(day, OFF, _chinese_name(h)) for day, h in chinese_calendar.holidays.items()]
    rows += [(day, WORKDAY, _chinese_name(h)) for day, h in chinese_calendar.workdays.items()]
    return sorted(rows)


def seed_from_package(model: Any, *, using: str = "default") -> int:
    """Copy the package's years that the table does not have yet; returns the rows added."""
    have = {d.year for d in model.objects.using(using).dates("date", "year")}
    new = [model(date=day, kind=kind, name=name) for day, kind, name in package_days() if day.year not in have]
    model.objects.using(using).bulk_create(new, ignore_conflicts=True)
    return len(new)


def seed_after_migrate(sender: Any, *, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    """post_migrate receiver: seed with the migrated state's model (absent before its migration).
    A flush sends the signal without ``apps``: the live models are the migrated ones then."""
    if apps is None:
        from django.apps import apps
    try:
        model = apps.get_model("pipeline", "HolidayDay")
    except LookupError:
        return
    seed_from_package(model, using=using)
