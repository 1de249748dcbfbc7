"""A rep logs a call from the agenda without leaving it (real chromium): open the card's log form,
tick what the customer showed, take the proposed stage and save in one click — three interactions,
no page load — at desktop and at phone width."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from yixiang.pipeline.models import FollowUp
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", WIDTHS)
def test_a_rep_logs_a_call_from_the_agenda_in_three_interactions(org, page, login, size):
    today = timezone.localdate()
    wang = set_state(
        org.customer(org.rep, name="王老板", phone="13800138000"),
        stage=1,
        next_due_on=today - dt.timedelta(days=2),
        held_since=days_ago(20),
        last_contact_at=days_ago(7),
    )
    other = set_state(org.customer(org.rep, name="李经理"), stage=3, next_due_on=today, held_since=days_ago(30))
    page.set_viewport_size(WIDTHS[size])
    login(org.rep)
    page.goto("/agenda/")
    card = page.locator(f'article[data-customer="{wang.pk}"]')
    # What the rep needs during the call is on the card: number, overdue days, purpose.
    expect(card.locator(".phone-link")).to_have_attribute("href", "tel:13800138000")
    expect(card).to_contain_text("逾期")
    expect(page.locator("#agenda-left")).to_contain_text("2")
    # A page load would reset this marker; htmx swaps keep it.
    page.evaluate("window.__noReload = 1")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

    card.locator(".log-inline").click()  # 1
    card.get_by_label("询问效果").check()  # 2
    apply = card.locator('.apply-save[value="2"]')
    expect(apply).to_be_visible()  # the signal's proposal arrived live
    apply.click()  # 3: use the proposed stage and save

    expect(page.locator(f'article[data-customer="{wang.pk}"]')).to_have_count(0)
    expect(page.locator(f"#card-{wang.pk}.agenda-done")).to_contain_text("王老板")
    expect(page.locator("#agenda-left")).to_contain_text("1")
    assert navigations == [] and page.evaluate("window.__noReload") == 1
    fu = FollowUp.objects.get(customer=wang)
    assert (fu.stage_before, fu.stage_after, fu.signals, fu.rep_id) == (1, 2, ["asks_results"], org.rep.pk)
    wang.refresh_from_db()
    assert wang.stage == 2 and wang.next_due_on > today
    page.goto("/agenda/")  # and on the next look it is no longer on today's list
    expect(page.locator(f'article[data-customer="{wang.pk}"]')).to_have_count(0)
    expect(page.locator(f'article[data-customer="{other.pk}"]')).to_have_count(1)
