"""Styled 403/404/500 pages in both languages, with the navigation (issue 14)."""

from __future__ import annotations

import pytest
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user, language: str) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    c.post(reverse("set_language"), {"language": language, "next": "/"})
    return c


@pytest.mark.parametrize(("language", "title"), [("zh-hans", "找不到这个页面"), ("en", "Page not found")])
def test_404_is_styled_translated_and_has_the_navigation(org, language, title):
    c = client_for(org.rep, language)
    for url in ("/no-such-page/", reverse("customer_detail", args=[987654])):
        response = c.get(url)
        html = response.content.decode()
        assert response.status_code == 404
        assert f"<h1>{title}</h1>" in html and 'data-status="404"' in html
        assert f'<html lang="{language}">' in html
        assert 'class="nav-links"' in html and f'href="{reverse("home")}"' in html  # the normal navigation
        assert "Not Found</h1>" not in html  # not Django's bare page


def test_404_for_a_visitor_offers_the_login(client):
    html = client.get("/no-such-page/").content.decode()
    assert "找不到这个页面" in html and f'href="{reverse("login")}"' in html


@pytest.mark.parametrize(
    ("language", "title", "reason"),
    [
        ("zh-hans", "没有权限", "只有组长和大区经理可以登记地区事件。"),
        ("en", "Not allowed", "Only team leads and directors record regional events."),
    ],
)
def test_403_is_styled_translated_and_gives_the_reason(org, language, title, reason):
    c = client_for(org.rep, language)
    response = c.post(reverse("regional_events"), {"kind": "fire", "title": "火", "on": "2025-07-01"})
    html = response.content.decode()
    assert response.status_code == 403
    assert f"<h1>{title}</h1>" in html and 'data-status="403"' in html and 'class="nav-links"' in html
    assert reason in html


@pytest.mark.parametrize(("language", "title"), [("zh-hans", "出错了"), ("en", "Something went wrong")])
def test_500_renders_without_context_or_database(language, title, django_assert_num_queries):
    """Django renders 500.html with an empty context; it must need nothing that could have failed."""
    with translation.override(language), django_assert_num_queries(0):
        html = get_template("500.html").render({})
    assert f"<h1>{title}</h1>" in html and 'href="/"' in html and "{%" not in html
