"""Pages: the care list, the customer panel (htmx fragment and its forms), campaigns, regional
events and the tier page — each checks who must not get in."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yixiang.aftercare import services, services_contracts, services_loyalty
from yixiang.aftercare.models import CareTask, Contract, Gift, LoyaltyChange, PayoutIncident, RegionalEvent
from yixiang.testing import PASSWORD

from .factories import pay, sign

D = dt.date
HTMX = {"HX-Request": "true"}


def login(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.fixture
def customer(org):
    return sign(
        org.customer(org.rep, "页面客户", phone="13800138000", birth_date=D(1990, 10, 3), birthday_calendar="lunar")
    )


def test_pages_need_login(db, client):
    for name in ("care", "campaign_list", "campaign_create", "value_tiers", "regional_events"):
        r = client.get(reverse(name))
        assert r.status_code == 302 and "/login/" in r["Location"]


def test_care_page_lists_tasks_and_done_by_htmx(org, customer):
    today = timezone.localdate()
    services.tasks_create(
        [
            CareTask(
                kind="birthday",
                customer=customer,
                rep=org.rep,
                due_on=today,
                title="生日问候",
                suggestion="生日快乐",
                source_key="k",
            )
        ]
    )
    c = login(org.rep)
    page = c.get(reverse("care"))
    assert page.status_code == 200 and "生日问候" in page.content.decode()
    assert "关怀日历" in page.content.decode()  # the Chinese UI is the default
    task = CareTask.objects.get()
    assert login(org.outsider).post(reverse("care_task_done", args=[task.pk])).status_code == 404
    r = c.post(reverse("care_task_done", args=[task.pk]), {"outcome": "已电话祝福"}, headers=HTMX)
    assert r.status_code == 200 and f'id="task-{task.pk}"' in r.content.decode()
    task.refresh_from_db()
    assert task.done_at is not None and task.outcome == "已电话祝福" and task.done_by == org.rep
    assert "生日问候" not in login(org.outsider).get(reverse("care")).content.decode()


def test_panel_fragment_and_scope(org, customer):
    url = reverse("customer_aftercare_panel", args=[customer.pk])
    assert url == f"/customers/{customer.pk}/aftercare/panel/"
    r = login(org.rep).get(url, headers=HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and 'id="aftercare-panel"' in html and "<html" not in html
    assert login(org.lead1).get(url).status_code == 200
    for user in (org.outsider, org.other_team_rep):
        assert login(user).get(url).status_code == 404
        assert (
            login(user)
            .post(reverse("customer_aftercare_action", args=[customer.pk, "gift"]), {"item": "x", "cost": "1"})
            .status_code
            == 404
        )
    assert not Gift.objects.exists()


def test_panel_forms_by_htmx(org, customer):
    c = login(org.rep)
    act = lambda a, data: c.post(reverse("customer_aftercare_action", args=[customer.pk, a]), data, headers=HTMX)  # noqa: E731
    r = act("contract", {"name": "项目甲", "number": "HT-9", "start_date": "2025-01-01", "end_date": "2025-12-31",
                         "amount": "50000", "payout_card": "6222021234561234",
                         "payout_date": ["2025-06-30", ""], "payout_amount": ["2500", ""]})  # fmt: skip
    html = r.content.decode()
    assert r.status_code == 200 and "HT-9" in html and "6222 **** **** 1234" in html and "6222021234561234" not in html
    assert Contract.objects.get().payouts.count() == 1
    r = act("contract", {"name": "", "number": "HT-10", "start_date": "2025-13-01", "amount": "x"})
    assert 'role="alert"' in r.content.decode() and Contract.objects.count() == 1
    act("gift", {"item": "月饼", "cost": "68", "occasion": "中秋"})
    assert Gift.objects.get().cost == 68
    act("loyalty", {"level": "very_satisfied"})
    assert LoyaltyChange.objects.get().to_level == "very_satisfied"
    r = act("tier", {"tier": "A", "reason": ""})
    assert 'role="alert"' in r.content.decode()
    act("tier", {"tier": "A", "reason": "大额续约在即"})
    customer.refresh_from_db()
    assert customer.value_tier == "A"
    act("referral_ask", {"prerequisites": ["trusts_product", "satisfied"], "outcome": "not_asked"})
    act("life_event", {"kind": "childbirth", "on": "2025-08-01"})
    pay(customer, 1000, D(2025, 1, 1))
    html = c.get(reverse("customer_aftercare_panel", args=[customer.pk])).content.decode()
    assert "月饼" in html and "1,000 元" in html  # one money style: separators and the unit
    assert c.post(reverse("customer_aftercare_action", args=[customer.pk, "nonsense"]), {}).status_code == 404


def test_incident_page(org, customer):
    contract = services_contracts.contract_create(
        actor=org.rep, customer=customer, name="p", number="HT-I", start_date=D(2025, 1, 1), amount=1000,
        payouts=[(D(2025, 2, 1), 100)],
    )  # fmt: skip
    services_contracts.payout_reminders_run(today=D(2025, 2, 5))
    incident = PayoutIncident.objects.get(payout__contract=contract)
    url = reverse("aftercare_incident", args=[incident.pk])
    assert login(org.outsider).get(url).status_code == 404
    c = login(org.rep)
    assert c.get(url).status_code == 200
    r = c.post(url, {"cause": "wrong_card", "resolution": "已更正卡号", "resolve": "1"})
    assert r.status_code == 302
    incident.refresh_from_db()
    assert incident.resolved_at is not None


def test_regional_event_form_for_leads_only(org, customer):
    url = reverse("regional_events")
    assert (
        login(org.rep).post(url, {"kind": "fire", "title": "火", "on": "2025-07-01", "province": "河南"}).status_code
        == 403
    )
    assert not RegionalEvent.objects.exists()
    customer.province = "河南"
    customer.save()
    r = login(org.lead1).post(url, {"kind": "fire", "title": "仓库火灾", "on": "2025-07-01", "province": "河南"})
    assert r.status_code == 302
    assert RegionalEvent.objects.get().tasks_created == 1
    bad = login(org.lead1).post(url, {"kind": "fire", "title": "", "on": "2025-07-01"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()


def test_campaign_pages(org, customer):
    c = login(org.rep)
    r = c.post(
        reverse("campaign_create"),
        {"name": "问候", "template": "{name}您好", "signed_only": "1", "reply_window_hours": "6"},
    )
    assert r.status_code == 302
    detail = r["Location"]
    page = c.get(detail).content.decode()
    assert "页面客户您好" in page  # the rendered sample
    assert login(org.outsider).get(detail).status_code == 404
    bad = c.post(reverse("campaign_create"), {"name": "x", "template": "{foo}"})
    assert bad.status_code == 200 and "{foo}" in bad.content.decode()
    assert "问候" in c.get(reverse("campaign_list")).content.decode()
    assert "问候" not in login(org.outsider).get(reverse("campaign_list")).content.decode()


def test_launched_campaign_page_shows_status_counts(org, customer):
    """Issue 12 defect 4: once launched, the page counted messages per status and answered 500."""
    c = login(org.rep)
    r = c.post(reverse("campaign_create"), {"name": "问候", "template": "{name}您好", "signed_only": "1"})
    detail = r["Location"]
    assert c.post(detail.rstrip("/") + "/launch/").status_code == 302
    for user in (org.rep, org.lead1, org.admin):
        page = login(user).get(detail)
        assert page.status_code == 200
        assert 'id="status-counts"' in page.content.decode()
    assert 'data-status="pending"' in page.content.decode() or 'data-status="sent"' in page.content.decode()


def test_tier_page_shows_pareto(org, customer):
    pay(customer, 5000, timezone.localdate())
    services_loyalty.tiers_recompute()
    html = login(org.lead1).get(reverse("value_tiers")).content.decode()
    assert 'id="pareto"' in html and "5,000 元" in html
    assert "5000" not in login(org.outsider).get(reverse("value_tiers")).content.decode()


def _tasks(customer, rep, n, start=0):
    today = timezone.localdate()
    services.tasks_create(
        [CareTask(kind="festival", customer=customer, rep=rep, due_on=today, title=f"t{i}", source_key=f"q{i}")
         for i in range(start, start + n)]
    )  # fmt: skip


def test_agenda_items_and_care_page_take_a_fixed_number_of_queries(org, customer, django_assert_num_queries):
    from yixiang.aftercare.selectors import agenda_care_items

    _tasks(customer, org.rep, 3)
    today = timezone.localdate()
    with django_assert_num_queries(1):
        assert len(agenda_care_items(user=org.rep, day=today)) == 3
    _tasks(customer, org.rep, 30, start=3)
    with django_assert_num_queries(1):
        assert len(agenda_care_items(user=org.rep, day=today)) == 33

    c = login(org.rep)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        c.get(reverse("care"))
    _tasks(customer, org.rep, 40, start=100)
    with CaptureQueriesContext(connection) as many:
        assert c.get(reverse("care")).status_code == 200
    assert len(many) == len(few)
