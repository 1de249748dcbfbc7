"""The customer archive in a real browser: create, find by initials, edit, tag, delete, restore."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from yixiang.customers.models import Customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_customer_lifecycle_in_the_browser(org, page, login):
    org.customer(org.rep, "李四", phone="13900139000")
    login(org.rep)

    # Create
    page.goto("/customers/new/")
    expect(page.locator("legend").first).to_have_text("基本信息")
    page.fill("#id_name", "张三")
    page.fill("#id_phone", "138 0013 8000")
    page.fill("#id_city", "上海")
    page.click("#save-customer")
    expect(page.locator("#customer-name")).to_have_text("张三")
    expect(page.locator(".messages")).to_contain_text("客户 张三 已创建")
    customer = Customer.objects.get(name="张三")

    # Find by pinyin initials with the live search (no page load: htmx swaps the results)
    page.goto("/customers/")
    expect(page.locator("h1")).to_have_text("客户")
    page.fill("#id_q", "zs")
    expect(page.locator("#result-count")).to_have_text(re.compile(r"^1 位客户"))
    expect(page.locator("#customer-table")).to_contain_text("张三")
    expect(page.locator("#customer-table")).not_to_contain_text("李四")
    assert "q=zs" in page.url  # the search is in the address, so reload and back work
    page.click("#customer-table >> text=张三")

    # Edit
    page.click("#edit-customer")
    page.fill("#id_city", "杭州")
    page.select_option("#id_grade", "A")
    page.click("#save-customer")
    expect(page.locator("[data-field=city] dd")).to_have_text("杭州")
    expect(page.locator(".detail-title")).to_contain_text("客户等级 A")

    # Tag (htmx fragment)
    page.fill("#tags-form input[name=tags]", "展会，重点跟进")
    page.click("#tags-form button")
    expect(page.locator("#tags-list")).to_contain_text("展会")
    expect(page.locator("#tags-list")).to_contain_text("重点跟进")
    assert sorted(t.name for t in customer.tags.all()) == ["展会", "重点跟进"]

    # Contact person (htmx fragment)
    page.click("#contacts-box summary")
    page.fill("#contact-form input[name=name]", "赵经理")
    page.click("#contact-form button[type=submit]")
    expect(page.locator("#contacts-box")).to_contain_text("赵经理")

    # History in Chinese (fragments do not redraw it: reload)
    page.reload()
    expect(page.locator("#history")).to_contain_text("修改标签")
    expect(page.locator("#history")).to_contain_text("创建")

    # Delete (confirm dialog) and restore from the trash
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-customer")
    expect(page.locator(".messages")).to_contain_text("已移入回收站")
    expect(page.locator("#results")).not_to_contain_text("张三")
    page.goto("/customers/trash/")
    expect(page.locator("#customer-table")).to_contain_text("张三")
    page.click(f"tr[data-customer='{customer.pk}'] .restore-button")
    expect(page.locator(".messages")).to_contain_text("张三 已恢复")
    customer.refresh_from_db()
    assert customer.deleted_at is None and customer.city == "杭州"


def test_language_switch_in_the_browser(org, page, login):
    login(org.rep)
    page.goto("/customers/")
    expect(page.locator("h1")).to_have_text("客户")
    page.click("#nav-toggle + label") if page.is_visible("#nav-toggle + label") else None
    page.click(".topbar .lang-switch button[value=en]")
    expect(page.locator("h1")).to_have_text("Customers")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_phone_screenshots(org, page, login):
    """List and detail at phone size (390x844): saved under /tmp to look at; the layout must fit."""
    c = org.customer(org.rep, "王小明", phone="13800138000", company_name="阳光贸易有限公司", city="杭州")
    org.customer(None, "公海客户", phone="13700137000")
    page.set_viewport_size({"width": 390, "height": 844})
    login(org.rep)
    page.goto("/customers/")
    expect(page.locator("#customer-table")).to_contain_text("王小明")
    # Cards, not a table wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator(".nav-links")).to_be_hidden()  # the menu is collapsed on phones
    expect(page.locator("#id_stage")).to_be_hidden()  # filters fold away on phones …
    page.screenshot(path="/tmp/yixiang-phone-list.png", full_page=True)
    page.click("label[for=filters-toggle]")
    expect(page.locator("#id_stage")).to_be_visible()  # … and open on demand
    page.select_option("#id_owner", "pool")
    expect(page.locator("#customer-table")).not_to_contain_text("王小明")
    expect(page.locator("#customer-table")).to_contain_text("公海客户")
    page.goto("/customers/")
    page.goto(f"/customers/{c.pk}/")
    expect(page.locator("#customer-name")).to_have_text("王小明")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="/tmp/yixiang-phone-detail.png", full_page=True)
    page.click("#nav-toggle + label")
    expect(page.locator(".nav-links")).to_be_visible()
    page.screenshot(path="/tmp/yixiang-phone-menu.png")
