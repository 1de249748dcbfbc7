"""In a real browser at phone width (390 px): a rep marks a payout 已返款 — the browser asks first,
a dismissed question changes nothing — then takes it back with the undo button, all in place."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from yixiang.aftercare import services_contracts as services
from yixiang.aftercare.models import Payout

from .factories import sign

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_payout_paid_then_undone_on_a_phone(org, page, login):
    customer = sign(org.customer(org.rep, "周玉兰", phone="13800138456"))
    today = timezone.localdate()
    contract = services.contract_create(
        actor=org.rep, customer=customer, name="推广项目", number="HT20261100013", start_date=today,
        end_date=today + dt.timedelta(days=365), amount=Decimal("7950"), payouts=[(today + dt.timedelta(days=30), 795)],
    )  # fmt: skip
    payout = contract.payouts.get()
    page.set_viewport_size({"width": 390, "height": 844})
    login(org.rep)
    page.goto(f"/customers/{customer.pk}/")
    panel = page.locator("#aftercare-panel")
    panel.wait_for()
    page.evaluate("window.__samePage = true")  # gone if anything below reloads the page
    questions: list[str] = []

    # First the rep dismisses the question: nothing is written.
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    paid = panel.locator(f"form[hx-post='/aftercare/payouts/{payout.pk}/paid/'] button")
    paid.click()
    page.wait_for_timeout(300)
    payout.refresh_from_db()
    assert payout.status == Payout.Status.SCHEDULED
    assert "795 元" in questions[0]

    # Then accepts it: paid, with a notice and an undo button in the row.
    page.once("dialog", lambda d: d.accept())
    paid.click()
    panel.locator("#money-notice").wait_for()
    assert "795 元" in panel.locator("#money-notice").inner_text()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    # The row offers undo too; the notice's button floats in view wherever the panel is scrolled.
    assert panel.locator(f"#payout-{payout.pk} form[hx-post$='/paid/undo/']").count() == 1
    undo = panel.locator("#money-notice button")
    box = undo.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844  # on screen
    undo.click()
    page.locator("#money-notice", has_text="已撤销").wait_for()
    payout.refresh_from_db()
    assert (payout.status, payout.paid_on) == (Payout.Status.SCHEDULED, None)
    assert page.locator(f"form[hx-post='/aftercare/payouts/{payout.pk}/paid/']").count() == 1
    assert page.evaluate("window.__samePage === true")
    assert page.url.endswith(f"/customers/{customer.pk}/")
