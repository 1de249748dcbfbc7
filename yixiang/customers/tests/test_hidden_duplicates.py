"""Issue 12, defect 6: the duplicate-phone refusal is not an oracle over the whole company.

Out of the caller's scope it names no record (no id, no archive number, no name, no owner), only that
the number is another rep's customer and whom to ask; each such look-up is audited, and a user who
makes too many in the window is refused further phone checks for a while (429), on every path.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yixiang.accounts.models import AuditEvent
from yixiang.customers.models import Customer
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db

FORM = {"kind": "individual", "preferred_channel": "phone", "birthday_calendar": "solar", "family_supports": "unknown"}


def test_the_api_names_nothing_out_of_scope(org, api_as):
    hidden = org.customer(org.rep, "甲", phone="13800138000")
    r = api_as(org.outsider).post("/api/v1/customers", {"name": "探测", "phone": "13800138000"})
    assert r.status_code == 409
    body = r.json()
    text = str(body)
    assert hidden.archive_no not in text and "甲" not in text and org.rep.username not in text
    assert "existing_id" not in body and "existing_archive_no" not in body
    assert body["code"] == "duplicate_phone"
    assert "其他业务员" in body["detail"] and "组长" in body["detail"]  # whom to ask, in zh-hans
    event = AuditEvent.objects.get(action="customer.hidden_duplicate")
    assert event.actor == org.outsider and event.target_id == str(hidden.pk)


def test_in_scope_the_record_is_still_named(org, api_as):
    mine = org.customer(org.rep, "甲", phone="13800138000")
    r = api_as(org.lead1).post("/api/v1/customers", {"name": "乙", "phone": "13800138000"})
    assert r.status_code == 409 and mine.archive_no in r.json()["detail"]
    assert not AuditEvent.objects.filter(action="customer.hidden_duplicate").exists()


def test_the_web_form_names_nothing_out_of_scope(org):
    hidden = org.customer(org.rep, "甲", phone="13800138000")
    c = Client()
    assert c.login(username=org.outsider.username, password=PASSWORD)
    r = c.post(reverse("customer_create"), {**FORM, "name": "探测", "phone": "13800138000"})
    html = r.content.decode()
    assert r.status_code == 400
    assert hidden.archive_no not in html and "其他业务员" in html
    assert AuditEvent.objects.filter(action="customer.hidden_duplicate", actor=org.outsider).count() == 1


def test_too_many_hidden_look_ups_are_refused_for_a_while(org, api_as, settings):
    settings.YIXIANG = {**settings.YIXIANG, "HIDDEN_DUPLICATE_LIMIT": 3}
    phones = [f"1380013800{i}" for i in range(5)]
    for p in phones:
        org.customer(org.rep, f"客户{p}", phone=p)
    api = api_as(org.outsider)
    for p in phones[:3]:
        assert api.post("/api/v1/customers", {"name": "探测", "phone": p}).status_code == 409
    # The fourth look-up is refused before the archive is consulted: taken or free, the same 429.
    for p in (phones[3], "13912345678"):
        r = api.post("/api/v1/customers", {"name": "探测", "phone": p})
        assert r.status_code == 429, r.content
        assert r.json()["code"] == "too_many_lookups"
    assert not Customer.objects.filter(phone_normalized__endswith="13912345678").exists()
    # Others are not held back, and the limit is per user.
    assert api_as(org.teammate).post("/api/v1/customers", {"name": "新", "phone": "13912345678"}).status_code == 201
    assert AuditEvent.objects.filter(action="customer.hidden_duplicate", actor=org.outsider).count() == 3
    assert AuditEvent.objects.filter(action="customer.lookups_refused", actor=org.outsider).count() == 2
