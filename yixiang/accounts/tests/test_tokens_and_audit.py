import pytest

from yixiang.accounts.models import AuditEvent
from yixiang.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_tokens_listed_without_secret_and_revocable(org, api_as):
    api = api_as(org.rep)
    second = api_as(org.rep)
    rows = api.get("/api/v1/auth/tokens").json()
    assert len(rows) == 2
    assert all("key_hash" not in r and "token" not in r for r in rows)
    other_id = [r["id"] for r in rows if second.token[3:9] == r["prefix"]][0]
    assert api.delete(f"/api/v1/auth/tokens/{other_id}").status_code == 204
    assert second.get("/api/v1/customers").status_code == 401  # revoked token no longer works
    assert api.get("/api/v1/customers").status_code == 200
    assert AuditEvent.objects.filter(action="token.revoke", actor=org.rep).count() == 1


def test_cannot_revoke_someone_elses_token(org, api_as):
    victim = api_as(org.teammate)
    victim_id = victim.get("/api/v1/auth/tokens").json()[0]["id"]
    assert api_as(org.rep).delete(f"/api/v1/auth/tokens/{victim_id}").status_code == 404
    assert victim.get("/api/v1/customers").status_code == 200


def test_permission_changes_in_admin_are_audited(client, org):
    client.login(username="admin", password=PASSWORD)
    url = f"/admin/accounts/user/{org.rep.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in {"groups", "user_permissions"}}
    data.update(role="lead", can_unmask="on", team=org.n1.pk, date_joined_0="2020-01-01", date_joined_1="00:00:00")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    r = client.post(url, data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    ev = AuditEvent.objects.get(action="user.permissions", target_id=str(org.rep.pk))
    assert ev.actor == org.admin
    assert ev.detail["changes"]["role"] == ["rep", "lead"]
    assert ev.detail["changes"]["can_unmask"] == [False, True]


def test_reps_cannot_open_admin(client, org):
    client.login(username="rep", password=PASSWORD)
    assert client.get("/admin/").status_code == 302  # to the admin login, nothing shown
