"""In a real browser: a director on a phone reads the region's statements and switches months;
an administrator edits the scheme in the form."""

from __future__ import annotations

import datetime as dt

import pytest

from yixiang.incentives.models import SchemeVersion
from yixiang.incentives.tests.factories import assess, developed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_director_reads_the_regions_statements_on_a_phone_and_switches_month(inc, page, login):
    for month in (dt.date(2011, 4, 1), dt.date(2011, 5, 1)):
        assess(inc.rep, month, 2)
    assess(inc.outsider, dt.date(2011, 4, 1), 2)
    developed(inc, inc.rep, 8000, dt.date(2011, 4, 2), name="四月客户")
    developed(inc, inc.rep, 60000, dt.date(2011, 5, 2), name="五月客户")
    page.set_viewport_size({"width": 390, "height": 844})
    login(inc.director)
    page.goto("/incentives/?month=2011-04")
    rep = page.locator('[data-user="rep"]')
    assert "四月客户" in rep.inner_text()
    assert rep.locator("[data-total]").get_attribute("data-total") == "-300"
    assert page.locator('[data-user="outsider"]').count() == 0
    # The month input switches the month in place (htmx) and updates the address.
    page.fill("#month-input", "2011-05")
    page.dispatch_event("#month-input", "change")
    page.wait_for_function("document.querySelector('#month-shown').textContent.trim() === '2011-05'")
    assert "五月客户" in page.locator('[data-user="rep"]').inner_text()
    assert page.locator('[data-user="rep"] [data-total]').get_attribute("data-total") == "0"
    assert "month=2011-05" in page.url
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_admin_edits_the_scheme_in_the_form(inc, page, login):
    version = SchemeVersion.objects.get(valid_from=dt.date(2011, 3, 1))
    login(inc.admin)
    page.goto("/incentives/schemes/")
    page.click(f"#version-{version.pk} a")
    page.fill("#id_fraud_person", "2500")
    page.fill("#id_penalties_text", "2: 900, 300\n1: 500")
    page.click("#save-version")
    page.wait_for_url("**/incentives/schemes/")
    version.refresh_from_db()
    assert version.fraud_person == 2500 and version.penalties == {"2": [900, 300], "1": [500]}
    assert "2: 900, 300" in page.locator(f"#version-{version.pk}").inner_text()
