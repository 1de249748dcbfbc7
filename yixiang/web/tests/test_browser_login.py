import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_login_lands_on_home(org, page, login):
    login(org.rep)
    assert page.url.endswith("/")
    assert page.locator("header").inner_text().count("rep") >= 1
