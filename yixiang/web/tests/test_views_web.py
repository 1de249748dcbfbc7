"""Login, home, navigation and language through the real URLs."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yixiang.customers import services
from yixiang.customers.models import Customer, Stage
from yixiang.pipeline import pool
from yixiang.testing import PASSWORD
from yixiang.web import selectors

pytestmark = pytest.mark.django_db


def stage_counts(html: str) -> dict[int, int]:
    return {int(s): int(n) for s, n in re.findall(r'data-stage="(-?\d+)">(\d+)<', html)}


def test_login_page_is_chinese_by_default(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录意向" in html and "用户名" in html and "密码" in html


def test_login_and_logout(org, client):
    response = client.post(reverse("login"), {"username": "lead1", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405  # logging out is a POST
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_shows_a_chinese_error(org, client):
    response = client.post(reverse("login"), {"username": "lead1", "password": "wrong-password"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "请输入一个正确的" in html  # Django's own zh-hans message for bad credentials


def test_anonymous_home_goes_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_home_counts_only_visible_customers_per_stage(org, client):
    mine = org.customer(org.rep, "甲")
    Customer.objects.filter(pk=mine.pk).update(stage=Stage.S3)
    org.customer(org.rep, "乙")
    org.customer(None, "公海")
    org.customer(org.teammate, "队友")
    org.customer(org.outsider, "外人")
    # A rep lands on the agenda, so the rep's counts are read from the selector behind the page.
    counts = {c.stage: c.count for c in selectors.stage_counts(org.rep)}
    assert counts[3] == 1 and counts[0] == 2 and sum(counts.values()) == 3
    assert set(counts) == {s.value for s in Stage}  # every stage listed, zeros included
    client.force_login(org.lead1)
    counts = stage_counts(client.get(reverse("home")).content.decode())
    assert set(counts) == {s.value for s in Stage}
    assert sum(counts.values()) == 4  # rep's two, teammate's one, the pool


def test_home_lists_my_recent_changes_only(org, client):
    mine = org.customer(org.rep, "我改的")
    services.customer_update(actor=org.rep, customer=mine, data={"city": "杭州"})
    org.customer(org.teammate, "队友改的")
    # The rep's home is the agenda; a lead's home lists the lead's own changes the same way.
    assert {c.customer.name for c in selectors.recent_changes(org.rep)} == {"我改的"}
    lead_own = org.customer(org.lead1, "组长改的")
    services.customer_update(actor=org.lead1, customer=lead_own, data={"city": "杭州"})
    client.force_login(org.lead1)
    html = client.get(reverse("home")).content.decode()
    assert "组长改的" in html and "我改的" not in html and "队友改的" not in html
    assert "修改" in html


def test_home_lists_the_owner_changes_i_made(org, client):
    handed = org.customer(org.rep, "交给队友的")
    org.customer(org.rep, "没动的")
    pool.customer_hand_over(actor=org.lead1, customer=handed, to_user=org.teammate)
    client.force_login(org.lead1)
    html = client.get(reverse("home")).content.decode()
    assert "交给队友的" in html and "没动的" not in html and "更换负责人" in html
    assert [c.customer.name for c in selectors.recent_changes(org.lead1)] == ["交给队友的"]


def test_reps_land_on_the_agenda(org, client):
    client.force_login(org.rep)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("agenda")
    client.force_login(org.lead1)
    assert client.get(reverse("home")).status_code == 200


def test_navigation_links_every_page(org, client):
    client.force_login(org.lead1)
    html = client.get(reverse("home")).content.decode()
    for name in ("agenda", "customer_list", "pool", "care", "campaign_list", "reports", "customer_import"):
        assert f'href="{reverse(name)}"' in html
    assert "组长" in html  # the user's role


def test_switching_to_english_shows_english(org, client):
    client.force_login(org.lead1)
    html = client.get(reverse("customer_list")).content.decode()
    assert "<h1>客户</h1>" in html
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("customer_list")})
    assert response.status_code == 302
    html = client.get(reverse("customer_list")).content.decode()
    assert '<html lang="en">' in html and "<h1>Customers</h1>" in html and "Team lead" in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "<h1>客户</h1>" in client.get(reverse("customer_list")).content.decode()


def test_static_assets_are_served(client):
    for path in ("/static/css/app.css", "/static/vendor/htmx.min.js", "/static/vendor/echarts.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
