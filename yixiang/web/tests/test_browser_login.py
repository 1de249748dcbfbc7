from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_login_lands_a_rep_on_the_agenda(org, page, login):
    # Home sends a rep to the day's agenda; a failed login would stay on /login/ with the form.
    login(org.rep)
    assert urlparse(page.url).path == "/agenda/"
    assert page.locator("input[name=password]").count() == 0
    assert org.rep.username in page.locator("header").inner_text()


def test_a_wrong_password_stays_on_the_login_form(org, page, login):
    login(org.rep, password="not-the-password")
    assert urlparse(page.url).path == "/login/"
    assert page.locator("input[name=password]").count() == 1
