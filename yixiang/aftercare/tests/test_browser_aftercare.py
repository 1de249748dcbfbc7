"""In a real browser on a phone-sized screen: the after-sale panel loads into the customer page by
htmx and its forms work; a care task is ticked off from the care list."""

import pytest
from django.utils import timezone

from yixiang.aftercare import services
from yixiang.aftercare.models import CareTask, Gift

from .factories import sign

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_panel_on_the_customer_page_logs_a_gift(org, page, login):
    customer = sign(org.customer(org.rep, "浏览器客户", phone="13800138123"))
    page.set_viewport_size({"width": 390, "height": 844})
    login(org.rep)
    page.goto(f"/customers/{customer.pk}/")
    panel = page.locator("#aftercare-panel")
    panel.wait_for()
    panel.locator("#gift-form summary").click()
    form = panel.locator("form[hx-post$='/aftercare/gift/']")
    form.locator("input[name=item]").fill("茶叶礼盒")
    form.locator("input[name=cost]").fill("128")
    form.locator("button[type=submit]").click()
    page.locator("#gifts", has_text="茶叶礼盒").wait_for()
    assert Gift.objects.get().cost == 128
    assert page.url.endswith(f"/customers/{customer.pk}/")  # the panel was swapped in place


def test_care_task_done_from_the_care_list(org, page, login):
    customer = sign(org.customer(org.rep, "关怀客户"))
    services.tasks_create(
        [CareTask(kind="festival", customer=customer, rep=org.rep, due_on=timezone.localdate(), title="中秋问候关怀客户",
                  suggestion="中秋快乐", source_key="b1")]
    )  # fmt: skip
    page.set_viewport_size({"width": 390, "height": 844})
    login(org.rep)
    page.goto("/care/")
    row = page.locator("#care-tasks tr", has_text="中秋问候关怀客户")
    row.locator("input[name=outcome]").fill("已发微信")
    row.locator("button[type=submit]").click()
    page.locator("#care-tasks tr .ok").wait_for()
    task = CareTask.objects.get()
    assert task.done_at is not None and task.outcome == "已发微信"
