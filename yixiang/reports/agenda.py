"""The user's own agenda, read for the morning digest and the private calendar feed: only
customers the user owns and may see (``visible_customers``), from the pipeline's agenda and the
after-sale care tasks, payouts and renewals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.customers.models import Stage
from yixiang.customers.scoping import visible_customers
from yixiang.reports import rules
from yixiang.reports.aftersale_figures import aftercare_conf
from yixiang.reports.conf import conf
from yixiang.reports.selectors import start_of

# Care tasks about payouts and renewals are listed from the contracts themselves.
_CONTRACT_TASK_KINDS = ("payout_notice", "payout_late", "renewal")


def site_link(name: str, *args: Any) -> str:
    """An absolute link into the site (for e-mails, robots and calendars)."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def own_payouts(user: User, *, until: dt.date, since: dt.date | None = None) -> QuerySet:
    """Unpaid payouts on the contracts of the user's own customers, due up to ``until``."""
    from yixiang.aftercare.models import Payout

    qs = Payout.objects.filter(
        contract__customer__in=visible_customers(user, include_pool=False).filter(owner=user),
        status__in=[Payout.Status.SCHEDULED, Payout.Status.LATE],
        due_date__lte=until,
    )
    if since is not None:
        qs = qs.filter(due_date__gte=since)
    return qs.select_related("contract", "contract__customer").order_by("due_date", "pk")


def own_renewals(user: User, *, until: dt.date, since: dt.date | None = None) -> QuerySet:
    """Active contracts of the user's own customers that end by ``until`` (renewal talks due)."""
    from yixiang.aftercare.models import Contract

    qs = Contract.objects.filter(
        customer__in=visible_customers(user, include_pool=False).filter(owner=user),
        status=Contract.Status.ACTIVE,
        end_date__lte=until,
    )
    if since is not None:
        qs = qs.filter(end_date__gte=since)
    return qs.select_related("customer").order_by("end_date", "pk")


@dataclass
class Digest:
    day: dt.date
    title: str
    sections: list[rules.DigestSection]

    @property
    def count(self) -> int:
        return sum(len(s.lines) + s.more for s in self.sections)

    @property
    def empty(self) -> bool:
        return self.count == 0


def _capped(section: rules.DigestSection, lines: list[str], cap: int) -> rules.DigestSection:
    section.lines, section.more = lines[:cap], max(len(lines) - cap, 0)
    return section


def digest_for(*, user: User, day: dt.date) -> Digest:
    """The user's agenda for ``day``: due and overdue customers (the pipeline's agenda), planned
    visits, care events (the after-sale care tasks), payouts and renewals coming up."""
    from yixiang.pipeline.selectors import agenda_items, care_items, visits_for_day

    cap = conf("DIGEST_MAX_ITEMS")
    due = []
    for item in agenda_items(user=user, day=day):
        if not item.is_due:
            continue
        text = f"{item.customer_name} · {item.stage_label}"
        if item.overdue_days:
            text += " · " + _("%(days)d days overdue") % {"days": item.overdue_days}
        if item.suggest_after:
            text += " · " + _("after %(time)s") % {"time": item.suggest_after}
        due.append(text)
    visits = [
        f"{timezone.localtime(v.at):%H:%M} {v.customer.name} · {v.place}" + (f" · {v.purpose}" if v.purpose else "")
        for v in visits_for_day(user=user, day=day)
    ]
    care = [
        f"{c['customer_name']} · {c['title']}"
        for c in care_items(user=user, day=day)
        if c.get("kind") not in _CONTRACT_TASK_KINDS
    ]
    payouts = [
        f"{p.due_date:%m-%d} {p.contract.customer.name} · {p.contract.number} · ¥{p.amount:,.0f}"
        + (" · " + _("late") if p.due_date < day else "")
        for p in own_payouts(user, until=day + dt.timedelta(days=aftercare_conf("PAYOUT_NOTICE_DAYS")))
    ]
    renewals = [
        f"{c.end_date:%m-%d} {c.customer.name} · {c.number} {c.name}"
        for c in own_renewals(user, until=day + dt.timedelta(days=aftercare_conf("RENEWAL_NOTICE_DAYS")))
    ]
    sections = [
        _capped(rules.DigestSection("due", _("Customers due today")), due, cap),
        _capped(rules.DigestSection("visits", _("Visits")), visits, cap),
        _capped(rules.DigestSection("care", _("Care events")), care, cap),
        _capped(rules.DigestSection("payouts", _("Payouts coming up")), payouts, cap),
        _capped(rules.DigestSection("renewals", _("Renewals due")), renewals, cap),
    ]
    title = _("Yixiang · today's agenda for %(name)s, %(date)s") % {"name": user.label, "date": day.isoformat()}
    return Digest(day=day, title=title, sections=sections)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    summary: str
    day: dt.date | None = None  # an all-day event …
    start: dt.datetime | None = None  # … or a timed one
    minutes: int = 60
    description: str = ""
    location: str = ""
    url: str = ""
    category: str = ""


def calendar_events(*, user: User, today: dt.date | None = None) -> list[CalendarEvent]:
    """The user's own planned work around today: next contacts due, planned visits, care events,
    payouts and renewals — only customers the user owns and may see."""
    from yixiang.aftercare.models import CareTask
    from yixiang.pipeline.models import VisitPlan

    today = today or timezone.localdate()
    first = today - dt.timedelta(days=conf("CALENDAR_PAST_DAYS"))
    last = today + dt.timedelta(days=conf("CALENDAR_FUTURE_DAYS"))
    mine = visible_customers(user, include_pool=False).filter(owner=user)
    labels = dict(Stage.choices)
    events: list[CalendarEvent] = []
    for pk, name, stage, due, phone in mine.filter(next_due_on__gte=first, next_due_on__lte=last).values_list(
        "pk", "name", "stage", "next_due_on", "phone"
    ):
        events.append(
            CalendarEvent(
                uid=f"due-{pk}",
                summary=_("Contact %(name)s (%(stage)s)") % {"name": name, "stage": labels.get(stage, stage)},
                day=due,
                description=phone,
                url=site_link("customer_detail", pk),
                category="follow-up",
            )
        )
    for v in (
        VisitPlan.objects.filter(
            rep=user, customer__in=mine, status=VisitPlan.Status.PLANNED, at__gte=start_of(first), at__lt=start_of(last)
        )
        .select_related("customer")
        .order_by("at")
    ):
        events.append(
            CalendarEvent(
                uid=f"visit-{v.pk}",
                summary=_("Visit %(name)s") % {"name": v.customer.name},
                start=v.at,
                description="\n".join(x for x in (v.purpose, v.person, v.materials) if x),
                location=v.place,
                url=site_link("customer_detail", v.customer_id),
                category="visit",
            )
        )
    for t in (
        CareTask.objects.filter(rep=user, customer__in=mine, done_at__isnull=True, due_on__gte=first, due_on__lte=last)
        .exclude(kind__in=_CONTRACT_TASK_KINDS)
        .select_related("customer")
        .order_by("due_on", "pk")
    ):
        events.append(
            CalendarEvent(
                uid=f"care-{t.pk}",
                summary=f"{t.customer.name} · {t.title}",
                day=t.due_on,
                description=t.suggestion,
                url=site_link("customer_detail", t.customer_id),
                category="care",
            )
        )
    for p in own_payouts(user, until=last, since=first):
        events.append(
            CalendarEvent(
                uid=f"payout-{p.pk}",
                summary=_("Payout %(amount)s to %(name)s")
                % {"amount": f"¥{p.amount:,.0f}", "name": p.contract.customer.name},
                day=p.due_date,
                description=f"{p.contract.number} {p.contract.name}",
                url=site_link("customer_detail", p.contract.customer_id),
                category="payout",
            )
        )
    notice = dt.timedelta(days=aftercare_conf("RENEWAL_NOTICE_DAYS"))
    for c in own_renewals(user, until=last + notice, since=first + notice):
        events.append(
            CalendarEvent(
                uid=f"renewal-{c.pk}",
                summary=_("Renewal talk: %(name)s (contract ends %(date)s)")
                % {"name": c.customer.name, "date": c.end_date.isoformat()},
                day=c.end_date - notice,
                description=f"{c.number} {c.name}",
                url=site_link("customer_detail", c.customer_id),
                category="renewal",
            )
        )
    return events
