"""The private iCalendar feed (RFC 5545), generated with the ``icalendar`` library."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from yixiang.accounts.models import User
from yixiang.reports.agenda import CalendarEvent

PRODID = "-//Yixiang CRM//Calendar feed//ZH"


def _uid_domain() -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host or "yixiang.local"


def ical(user: User, events: Iterable[CalendarEvent], *, now: dt.datetime | None = None) -> bytes:
    """The user's events as an iCalendar document: all-day events for dates, timed ones in UTC
    (so no VTIMEZONE is needed), each with a stable UID so a phone updates rather than duplicates."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Yixiang · %(name)s") % {"name": user.label})
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    # Ask subscribing calendars to refresh every hour.
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    domain = _uid_domain()
    for e in events:
        ev = Event()
        ev.add("uid", f"{e.uid}-{user.pk}@{domain}")
        ev.add("dtstamp", now)
        ev.add("summary", e.summary)
        if e.start is not None:
            start = e.start.astimezone(dt.UTC)
            ev.add("dtstart", start)
            ev.add("dtend", start + dt.timedelta(minutes=e.minutes))
        else:
            ev.add("dtstart", e.day)
            ev.add("dtend", e.day + dt.timedelta(days=1))
            ev.add("transp", "TRANSPARENT")  # a reminder, not a busy block
        if e.description:
            ev.add("description", e.description)
        if e.location:
            ev.add("location", e.location)
        if e.url:
            ev.add("url", e.url)
        if e.category:
            ev.add("categories", [e.category])
        cal.add_component(ev)
    return cal.to_ical()
