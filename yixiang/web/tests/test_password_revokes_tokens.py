"""Issue 12, defect 7: a new password revokes the API tokens issued before it (as deactivation does)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yixiang.accounts.models import ApiToken, AuditEvent
from yixiang.accounts.services import api_token_create
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "a-new-pass-987"


def bearer(raw: str) -> int:
    return Client().get("/api/v1/agenda", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_changing_the_password_on_the_account_page_revokes_older_tokens(org, client):
    raw = api_token_create(user=org.rep, name="script")
    other = api_token_create(user=org.teammate, name="theirs")
    assert bearer(raw) == 200
    client.force_login(org.rep)
    page = client.get(reverse("account")).content.decode()
    assert "修改密码后，之前创建的 API 令牌全部失效" in page  # the page says so before you change it
    r = client.post(reverse("account_password"), {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert r.status_code == 302
    assert bearer(raw) == 401
    assert bearer(other) == 200  # only the changer's own tokens
    assert not ApiToken.objects.filter(user=org.rep, revoked_at__isnull=True).exists()
    event = AuditEvent.objects.get(actor=org.rep, action="password.change")
    assert event.detail.get("tokens_revoked") == 1
    fresh = api_token_create(user=org.rep, name="after")
    assert bearer(fresh) == 200  # a token made with the new password works


def test_any_other_password_change_revokes_them_too(org):
    """manage.py changepassword, the Django admin: every path that sets a password."""
    raw = api_token_create(user=org.rep, name="script")
    org.rep.set_password(NEW)
    org.rep.save()
    assert bearer(raw) == 401
    raw = api_token_create(user=org.rep, name="again")
    org.rep.display_name = "新名字"
    org.rep.save()  # a save without a new password revokes nothing
    assert bearer(raw) == 200
