"""Words for a customer's yearly day (a person's birthday, a company's founding day, 成立日) and
for a rep's quick care greetings.

Kept apart so the care-task generator and the calendar say the same thing for the same kind."""

from __future__ import annotations

import datetime as dt

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


# --------------------------------------------------------------------------- quick care (seed 000 情感维护)

# A rep's everyday care gestures for their own customers (seed 000: "雨雪雾天气、生病的问候",
# "空巢老人的关爱"): code, label, the message suggested for it ("%(name)s" is the customer).
QUICK_CARE: dict[str, tuple[Promise, Promise]] = {
    "rain": (
        gettext_lazy("Rain greeting"),
        gettext_lazy("%(name)s, it is raining today; take an umbrella and mind the roads."),
    ),
    "snow": (
        gettext_lazy("Snow greeting"),
        gettext_lazy("%(name)s, it is snowing; keep warm and take care on the way."),
    ),
    "fog": (gettext_lazy("Fog greeting"), gettext_lazy("%(name)s, it is foggy today; drive slowly and take care.")),
    "illness": (
        gettext_lazy("Illness greeting"),
        gettext_lazy("%(name)s, I heard you are unwell. Take good care; may I visit?"),
    ),
    "elderly_alone": (
        gettext_lazy("Care for an elderly customer living alone"),
        gettext_lazy("%(name)s, I wanted to see how you are doing. Is there anything you need? I can drop by."),
    ),
}


def quick_care_label(kind: str) -> str:
    return str(QUICK_CARE[kind][0])


def quick_care_message(kind: str, name: str) -> str:
    return str(QUICK_CARE[kind][1]) % {"name": name}
