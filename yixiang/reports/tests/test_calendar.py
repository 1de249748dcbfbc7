"""The private iCalendar feed: valid RFC 5545 (parsed back with icalendar), only the owner's own
work, and a revocable token — unknown or revoked tokens are 404."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from yixiang.aftercare.models import CareTask, Contract, Payout
from yixiang.customers.models import Customer
from yixiang.pipeline.models import VisitPlan
from yixiang.reports import services
from yixiang.reports.tests.test_views import client_for

pytestmark = pytest.mark.django_db


def due(org, owner, name: str, days: int) -> Customer:
    c = org.customer(owner, name)
    Customer.objects.filter(pk=c.pk).update(next_due_on=timezone.localdate() + dt.timedelta(days=days), stage=2)
    return c


def work(org) -> dict:
    today = timezone.localdate()
    a = due(org, org.rep, "张三", 0)
    b = due(org, org.rep, "李四", 5)
    due(org, org.rep, "远期", 400)  # outside the feed's window
    due(org, org.teammate, "队友的客户", 1)
    due(org, org.lead1, "组长的客户", 2)
    visit = VisitPlan.objects.create(
        customer=b,
        rep=org.rep,
        at=timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=2), dt.time(10, 30))),
        place="国贸大厦 A 座",
        purpose="试成交",
    )
    CareTask.objects.create(
        kind="birthday",
        customer=a,
        rep=org.rep,
        due_on=today + dt.timedelta(days=3),
        title="张三 生日",
        source_key="bd-a",
    )
    contract = Contract.objects.create(
        customer=a,
        name="年度推广",
        number="HT-77",
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=40),
        amount=Decimal(9000),
    )
    Payout.objects.create(contract=contract, due_date=today + dt.timedelta(days=6), amount=Decimal(1500))
    Payout.objects.create(contract=contract, due_date=today - dt.timedelta(days=60), amount=Decimal(1), status="paid")
    return {"a": a, "b": b, "visit": visit}


def fetch(token: str, client: Client | None = None):
    return (client or Client()).get(f"/calendar/{token}.ics")


def test_feed_is_valid_icalendar_with_the_owners_work(org):
    work(org)
    token = services.calendar_feed_regenerate(actor=org.rep)
    r = fetch(token)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/calendar")
    raw = r.content
    # RFC 5545: CRLF line ends, lines folded at 75 octets.
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and all(len(line) <= 75 for line in lines)
    cal = Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and "Yixiang" in str(cal["PRODID"])
    events = cal.walk("VEVENT")
    for ev in events:
        assert ev.get("UID") and ev.get("DTSTAMP") and ev.get("DTSTART")
        assert ev.decoded("DTEND") > ev.decoded("DTSTART")
    summaries = " | ".join(str(ev["SUMMARY"]) for ev in events)
    assert "张三" in summaries and "李四" in summaries
    assert "远期" not in summaries  # beyond the window
    assert "队友的客户" not in summaries and "组长的客户" not in summaries  # not the rep's
    by_uid = {str(ev["UID"]).split("@")[0]: ev for ev in events}
    assert len(by_uid) == len(events)  # UIDs are unique
    today = timezone.localdate()
    visit = next(ev for uid, ev in by_uid.items() if uid.startswith("visit-"))
    start = visit.decoded("DTSTART")
    assert isinstance(start, dt.datetime) and start.tzinfo is not None
    assert timezone.localtime(start).time() == dt.time(10, 30)
    assert str(visit["LOCATION"]) == "国贸大厦 A 座"
    birthday = next(ev for uid, ev in by_uid.items() if uid.startswith("care-"))
    assert birthday.decoded("DTSTART") == today + dt.timedelta(days=3)
    payouts = [ev for uid, ev in by_uid.items() if uid.startswith("payout-")]
    assert len(payouts) == 1 and payouts[0].decoded("DTSTART") == today + dt.timedelta(days=6)  # the paid one is gone
    renewal = next(ev for uid, ev in by_uid.items() if uid.startswith("renewal-"))
    assert renewal.decoded("DTSTART") == today + dt.timedelta(days=10)  # 30 days before the end
    assert "HT-77" in str(renewal["DESCRIPTION"])
    # A lead's feed carries the lead's own customers only, not the team's.
    lead_cal = Calendar.from_ical(fetch(services.calendar_feed_regenerate(actor=org.lead1)).content)
    lead_summaries = [str(ev["SUMMARY"]) for ev in lead_cal.walk("VEVENT")]
    assert len(lead_summaries) == 1 and "组长的客户" in lead_summaries[0]


def test_unknown_revoked_and_replaced_tokens_are_not_found(org):
    work(org)
    assert fetch("no-such-token").status_code == 404
    old = services.calendar_feed_regenerate(actor=org.rep)
    new = services.calendar_feed_regenerate(actor=org.rep)
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    services.calendar_feed_revoke(actor=org.rep)
    assert fetch(new).status_code == 404
    again = services.calendar_feed_regenerate(actor=org.rep)
    org.rep.is_active = False
    org.rep.save(update_fields=["is_active"])
    assert fetch(again).status_code == 404


def test_a_customer_handed_over_leaves_the_feed(org):
    built = work(org)
    token = services.calendar_feed_regenerate(actor=org.rep)
    Customer.objects.filter(pk=built["a"].pk).update(owner=org.teammate)
    summaries = " ".join(str(ev["SUMMARY"]) for ev in Calendar.from_ical(fetch(token).content).walk("VEVENT"))
    assert "张三" not in summaries and "HT-77" not in fetch(token).content.decode()


def test_the_page_makes_shows_once_and_revokes_the_link(org):
    c = client_for(org.rep)
    page = reverse("reports_subscriptions")
    assert c.post(reverse("reports_calendar_token"), {"action": "create"}).status_code == 302
    body = c.get(page).content.decode()
    url = re.search(r'value="(http://testserver/calendar/[^"]+\.ics)"', body).group(1)
    assert Client().get(url.replace("http://testserver", "")).status_code == 200
    assert url not in c.get(page).content.decode()  # shown only once
    c.post(reverse("reports_calendar_token"), {"action": "revoke"})
    assert Client().get(url.replace("http://testserver", "")).status_code == 404
    # GET does not change anything, nor does a POST that does not say what to do.
    assert c.get(reverse("reports_calendar_token")).status_code == 405
    assert c.post(reverse("reports_calendar_token")).status_code == 400


def test_feed_queries_do_not_grow(org, django_assert_max_num_queries):
    work(org)
    token = services.calendar_feed_regenerate(actor=org.rep)
    with django_assert_max_num_queries(8):
        fetch(token)
    for i in range(20):
        due(org, org.rep, f"客户{i}", i % 10)
    with django_assert_max_num_queries(8):
        assert fetch(token).status_code == 200
