"""One way to write relative times and amounts in every template (issue 14).

Django's `naturaltime` mixes styles in Chinese ("8秒之前", "1 周前", "4 日，21 小时前"); this module
gives one concise unit per phrase ("3 天前" / "3 days ago"), and one money style
("7,950 元", "7,950.50 元"): thousands separators, decimals only when there are cents.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Past this many days a relative phrase stops helping ("83 天前"): the date is clearer.
RELATIVE_DAYS_LIMIT = 45


def relative_time(value: dt.datetime | dt.date | None, now: dt.datetime | None = None) -> str:
    """ "刚刚", "5 分钟前", "2 小时前", "3 天前" (or "… 后" for the future); the date beyond 45 days."""
    if value is None or value == "":
        return ""
    now = now or timezone.now()
    if not isinstance(value, dt.datetime):
        # A plain date counts whole days against today's local date.
        days = (timezone.localdate(now) - value).days
        if abs(days) > RELATIVE_DAYS_LIMIT:
            return date_format(value, "DATE_FORMAT")
        if days == 0:
            return _("today")
        return _days(days)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    seconds = int((now - value).total_seconds())
    past = seconds >= 0
    seconds = abs(seconds)
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        n = seconds // 60
        return (
            ngettext("%(n)s minute ago", "%(n)s minutes ago", n)
            if past
            else ngettext("in %(n)s minute", "in %(n)s minutes", n)
        ) % {"n": n}
    if seconds < 86400:
        n = seconds // 3600
        return (
            ngettext("%(n)s hour ago", "%(n)s hours ago", n) if past else ngettext("in %(n)s hour", "in %(n)s hours", n)
        ) % {"n": n}
    days = seconds // 86400
    if days > RELATIVE_DAYS_LIMIT:
        return date_format(timezone.localtime(value), "DATE_FORMAT")
    return _days(days if past else -days)


def _days(days: int) -> str:
    n = abs(days)
    if days > 0:
        return ngettext("%(n)s day ago", "%(n)s days ago", n) % {"n": n}
    return ngettext("in %(n)s day", "in %(n)s days", n) % {"n": n}


def format_yuan(amount: object) -> str:
    """An amount of money as "7,950 元" / "7,950.50 元" ("7,950 yuan" in English); "" for nothing."""
    if amount is None or amount == "" or not _is_number(amount):
        return "" if amount is None else str(amount)
    return _("%(amount)s yuan") % {"amount": format_amount(amount)}


def _is_number(amount: object) -> bool:
    try:
        Decimal(str(amount))
    except InvalidOperation:
        return False
    return True


def format_amount(amount: object) -> str:
    """The number part of :func:`format_yuan` ("7,950", "7,950.50"), for texts that already say 元."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
