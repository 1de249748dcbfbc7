"""Words for a customer's yearly day: a person's birthday, a company's founding day (成立日).

Kept apart so the care-task generator and the calendar say the same thing for the same kind."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from yixiang.customers.models import Customer, Kind


def yearly_day_title(c: Customer, day: dt.date) -> str:
    lunar = c.birthday_calendar == "lunar"
    if c.kind == Kind.COMPANY:
        text = _("Founding day (lunar) of %(name)s on %(date)s") if lunar else _("Founding day of %(name)s on %(date)s")
    else:
        text = _("Lunar birthday of %(name)s on %(date)s") if lunar else _("Birthday of %(name)s on %(date)s")
    return text % {"name": c.name, "date": day.isoformat()}


def yearly_day_wish(c: Customer) -> str:
    if c.kind == Kind.COMPANY:
        return _("Happy founding anniversary to %(name)s! Wishing your business continued success.") % {"name": c.name}
    return _("Happy birthday, %(name)s! Wishing you good health and every success.") % {"name": c.name}
