"""The account page: password, API tokens, language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yixiang.accounts.models import ApiToken, AuditEvent
from yixiang.accounts.services import api_token_create
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_account_page_needs_login(client):
    response = client.get(reverse("account"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_account_page(org, client):
    client.force_login(org.rep)
    html = client.get(reverse("account")).content.decode()
    assert "我的账户" in html and "修改密码" in html and "API 令牌" in html
    assert 'action="/i18n/setlang/"' in html


def test_change_password(org, client):
    client.force_login(org.rep)
    bad = client.post(
        reverse("account_password"),
        {"old_password": "not-it", "new_password1": "a-new-pass-987", "new_password2": "a-new-pass-987"},
    )
    assert bad.status_code == 400 and "旧密码" in bad.content.decode()
    good = client.post(
        reverse("account_password"),
        {"old_password": PASSWORD, "new_password1": "a-new-pass-987", "new_password2": "a-new-pass-987"},
    )
    assert good.status_code == 302
    assert client.get(reverse("account")).status_code == 200  # still logged in on this device
    org.rep.refresh_from_db()
    assert org.rep.check_password("a-new-pass-987")
    assert AuditEvent.objects.filter(actor=org.rep, action="password.change").exists()


def test_create_token_shows_it_once_and_it_works(org, client):
    client.force_login(org.rep)
    html = client.post(reverse("account_token_create"), {"name": "Excel 同步"}).content.decode()
    token = ApiToken.objects.get(user=org.rep, name="Excel 同步")
    raw = html.split('<code class="token-raw">')[1].split("</code>")[0]
    assert raw.startswith("yx_") and ApiToken.hash(raw) == token.key_hash
    assert raw not in client.get(reverse("account")).content.decode()  # never shown again
    api = Client()
    assert api.get("/api/v1/customers", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_token_needs_a_name(org, client):
    client.force_login(org.rep)
    assert client.post(reverse("account_token_create"), {"name": ""}).status_code == 400
    assert not ApiToken.objects.filter(user=org.rep).exists()


def test_revoke_own_token_but_not_someone_elses(org, client):
    api_token_create(user=org.rep, name="mine")
    api_token_create(user=org.teammate, name="theirs")
    mine = ApiToken.objects.get(user=org.rep)
    theirs = ApiToken.objects.get(user=org.teammate)
    client.force_login(org.rep)
    assert client.post(reverse("account_token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("account_token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    html = client.get(reverse("account")).content.decode()
    assert "已吊销" in html
