"""The report period fields keep the chosen period (issue 14): `<input type=date>` only accepts ISO,
so the server must write 2026-11-03 (not the locale's 2026/11/03), on every tab and in both languages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db

PERIOD_TABS = ["reports", "reports_activity", "reports_aftercare", "reports_incentives"]
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date_inputs(html: str) -> dict[str, str]:
    """name → value attribute of every <input type="date"> on the page."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="date"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            value = re.search(r'value="([^"]*)"', tag)
            found[name] = value.group(1) if value else ""
    return found


def client_for(user, language: str) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    c.post(reverse("set_language"), {"language": language, "next": "/"})
    return c


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("name", PERIOD_TABS)
def test_default_period_is_written_as_iso_and_survives_a_resubmit(org, name, language):
    c = client_for(org.lead1, language)
    first = date_inputs(c.get(reverse(name)).content.decode())
    assert ISO.match(first["from"]) and ISO.match(first["to"]), first
    # Re-submitting the form as the browser would (its current values) keeps the same period.
    again = c.get(reverse(name), {"from": first["from"], "to": first["to"]})
    assert date_inputs(again.content.decode()) == first
    f = again.context["f"]
    assert (f.date_from, f.date_to) == (dt.date.fromisoformat(first["from"]), dt.date.fromisoformat(first["to"]))


@pytest.mark.parametrize("name", PERIOD_TABS)
def test_a_chosen_period_is_kept(org, name):
    c = client_for(org.director, "zh-hans")
    html = c.get(reverse(name), {"from": "2026-01-05", "to": "2026-02-27"}).content.decode()
    inputs = date_inputs(html)
    assert (inputs["from"], inputs["to"]) == ("2026-01-05", "2026-02-27")
    # The same period after a change of another field (the browser sends the fields back as they are).
    html = c.get(reverse(name), {"from": inputs["from"], "to": inputs["to"], "unit": "month"}).content.decode()
    assert date_inputs(html)["from"] == "2026-01-05"
