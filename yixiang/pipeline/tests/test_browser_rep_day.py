"""A rep's day in a real browser (Debian's chromium, phone-sized): log in, open the agenda, log a
follow-up that lifts a stage, and see the customer leave today's list."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from yixiang.customers.models import Customer
from yixiang.pipeline.models import StageChange
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def test_a_reps_day(org, page, login, tmp_path):
    shots = Path(os.environ.get("YIXIANG_SCREENSHOT_DIR", tmp_path))
    today = timezone.localdate()
    wang = set_state(
        org.customer(org.rep, name="王老板", phone="13800138000"),
        stage=1,
        next_due_on=today,
        held_since=days_ago(20),
        last_contact_at=days_ago(7),
    )
    li = set_state(
        org.customer(org.rep, name="李经理"), stage=3, next_due_on=today - dt.timedelta(days=2), held_since=days_ago(30)
    )
    set_state(org.customer(org.teammate, name="别组客户"), next_due_on=today)

    page.set_viewport_size(PHONE)
    login(org.rep)
    assert page.url.endswith("/agenda/")  # a rep's home is the agenda
    items = page.locator("#agenda-items article")
    assert items.count() == 2
    # Stage 3–4 first.
    assert items.nth(0).locator(".agenda-name").inner_text() == "李经理"
    assert "别组客户" not in page.content()
    page.screenshot(path=str(shots / "agenda-phone.png"), full_page=True)

    page.locator(f'article[data-customer="{wang.pk}"] a.log-followup').click()
    page.wait_for_url(f"**/customers/{wang.pk}/follow-up/**")
    page.get_by_label("询问效果").check()
    page.fill("#id_summary", "他问了效果，还拿同行做比较")
    # Both proposals arrive live: the ticked signal and the note's keywords say stage 2.
    expect(page.locator("#proposals")).to_contain_text("比较")
    expect(page.locator('#proposals .use-stage[data-stage="2"]')).to_have_count(2)
    page.locator('#proposals .use-stage[data-stage="2"]').first.click()
    assert page.locator("#id_stage").input_value() == "2"
    page.screenshot(path=str(shots / "followup-phone.png"), full_page=True)
    page.click("#save-followup")

    page.wait_for_url("**/agenda/**")
    assert "王老板" in page.locator(".messages").inner_text()
    names = page.locator("#agenda-items .agenda-name").all_inner_texts()
    assert names == ["李经理"]
    wang.refresh_from_db()
    assert wang.stage == 2 and wang.next_due_on > today
    change = StageChange.objects.get(customer=wang)
    assert (change.from_stage, change.to_stage, change.signals) == (1, 2, ["asks_results"])
    assert Customer.objects.get(pk=li.pk).stage == 3
