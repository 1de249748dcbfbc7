"""Issue 14 in a real browser, at desktop and phone width: a lead goes from home to the rep with the
most overdue customers and that rep's overdue list (≤ 2 interactions); a director opens the month's
statements and one line's customer (≤ 3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from yixiang.incentives.tests.conftest import seeded  # noqa: F401 (the shipped scheme, a fixture)
from yixiang.incentives.tests.factories import assess, developed
from yixiang.pipeline.tests.factories import set_state

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

WIDTHS = [1280, 390]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_lead_finds_who_is_behind_in_two_steps(org, page, login, width):
    today = timezone.localdate()
    late = today - dt.timedelta(days=3)
    for name in ("落后一", "落后二", "落后三"):
        set_state(org.customer(org.teammate, name=name), next_due_on=late)
    set_state(org.customer(org.rep, name="准时"), next_due_on=today + dt.timedelta(days=3))
    set_state(org.customer(org.rep, name="稍晚"), next_due_on=late)
    page.set_viewport_size({"width": width, "height": 844})
    login(org.lead1)
    page.goto("/")
    interactions = 0
    assert page.locator("#team-overdue strong").inner_text() == "4"
    # The rows are most-behind first; the headline link goes straight to that rep's overdue list.
    assert page.locator("#team-home-table tbody tr").first.get_attribute("data-rep") == str(org.teammate.pk)
    page.click("#most-behind")
    interactions += 1
    page.wait_for_load_state()
    assert f"owner={org.teammate.pk}" in page.url and "due=overdue" in page.url
    results = page.locator("#results").inner_text()
    assert all(n in results for n in ("落后一", "落后二", "落后三"))
    assert "稍晚" not in results and "准时" not in results
    assert interactions <= 2
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("width", WIDTHS)
def test_a_director_opens_a_statement_lines_customer(org, page, login, width):
    month = timezone.localdate().replace(day=1)
    from yixiang.accounts.models import User

    User.objects.update(hire_date=dt.date(2010, 1, 1))
    assess(org.rep, month, 1)
    developed(org, org.rep, 60000, month, name="新签客户")
    page.set_viewport_size({"width": width, "height": 844})
    login(org.director)
    page.goto("/")
    interactions = 0
    assert page.locator("#incentive-position .position").count() >= 1
    page.click("#open-statements")
    interactions += 1
    page.wait_for_load_state()
    line = page.locator('[data-user="rep"] a.line-customer', has_text="新签客户")
    line.first.click()
    interactions += 1
    page.wait_for_load_state()
    assert "/customers/" in page.url
    assert "新签客户" in page.locator("h1").first.inner_text()
    assert interactions <= 3


@pytest.mark.parametrize("width", WIDTHS)
def test_team_review_names_stay_on_one_line(org, page, login, width):
    """Names wrapped one character per line ("王小/明") when the table squeezed its first column."""
    from yixiang.accounts.models import User

    User.objects.filter(pk=org.rep.pk).update(display_name="王小明")
    for i in range(6):
        set_state(org.customer(org.rep, name=f"客户{i}"), stage=i % 5)
    page.set_viewport_size({"width": width, "height": 844})
    login(org.lead1)
    page.goto("/team/review/")
    cell = page.locator(f'#review-table tr[data-member="{org.rep.pk}"] .name-cell a')
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 24")
    assert cell.bounding_box()["height"] < 1.6 * line
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_lead_releases_one_proposal_and_keeps_another_on_a_phone(org, page, login):
    """From home's count to the recycling proposals (issue 15) at 390px: release one customer to the
    pool (confirming the dialog), keep another with a note; each row turns into its outcome in place."""
    from yixiang.customers.models import Customer
    from yixiang.pipeline import pool
    from yixiang.pipeline.models import OwnerChange, RecycleProposal
    from yixiang.pipeline.tests.factories import days_ago

    today = timezone.localdate()
    go = set_state(
        org.customer(org.rep, name="回收这个"),
        stage=3,
        next_due_on=today - dt.timedelta(days=40),
        held_since=days_ago(90),
    )
    keep = set_state(
        org.customer(org.teammate, name="保留这个"),
        stage=4,
        next_due_on=today - dt.timedelta(days=35),
        held_since=days_ago(60),
    )
    assert pool.recycle_run().proposed_to_lead == 2
    page.set_viewport_size({"width": 390, "height": 844})
    login(org.lead1)
    page.goto("/")
    assert page.locator("#recycle-proposals-link strong").inner_text() == "2"
    page.click("#recycle-proposals-link")
    page.wait_for_url("**/team/recycle-proposals/")
    assert page.locator("#recycle-table tbody tr").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.once("dialog", lambda d: d.accept())
    page.locator(f"#recycle-{go.pk} .recycle-release").click()
    expect(page.locator(f"#recycle-{go.pk}.recycle-done")).to_contain_text("回收到公海")
    page.locator(f'#recycle-{keep.pk} input[name="note"]').fill("月底签，决策人出差")
    page.locator(f"#recycle-{keep.pk} .recycle-keep").click()
    expect(page.locator(f"#recycle-{keep.pk}.recycle-done")).to_contain_text("继续由")
    assert Customer.objects.get(pk=go.pk).owner_id is None
    assert OwnerChange.objects.get(customer=go).by == org.lead1
    assert Customer.objects.get(pk=keep.pk).owner == org.teammate
    assert RecycleProposal.objects.get(customer=keep).note == "月底签，决策人出差"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
