"""Organisation API: administrators build regions, teams and staff over HTTP; others get 403; audited."""

from django.test import Client

from yixiang.accounts.models import AuditEvent, Role, User
from yixiang.testing import PASSWORD


def test_admin_builds_a_region_team_and_staff_member(org, api_as):
    api = api_as(org.admin)
    r = api.post("/api/v1/org/regions", {"name": "西南大区"})
    assert r.status_code == 201, r.content
    region_id = r.json()["id"]
    r = api.post("/api/v1/org/teams", {"name": "西一组", "region_id": region_id})
    assert r.status_code == 201, r.content
    team_id = r.json()["id"]
    r = api.post(
        "/api/v1/org/staff",
        {"username": "xiaowang", "password": "secret-pw-1", "role": "rep", "team_id": team_id,
         "hire_date": "2026-03-01", "on_probation": True, "display_name": "小王"},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    # A rep takes the team's region.
    assert body["region_id"] == region_id and body["team_id"] == team_id
    assert body["hire_date"] == "2026-03-01" and body["on_probation"] is True
    user = User.objects.get(username="xiaowang")
    assert user.check_password("secret-pw-1")
    assert Client().login(username="xiaowang", password="secret-pw-1")
    r = api.patch(f"/api/v1/org/staff/{user.pk}", {"on_probation": False, "role": "lead"})
    assert r.status_code == 200 and r.json()["role"] == "lead" and r.json()["on_probation"] is False
    actions = set(AuditEvent.objects.filter(actor=org.admin).values_list("action", flat=True))
    assert {"org.region.save", "org.team.save", "user.create", "user.update", "user.permissions"} <= actions
    listed = api.get("/api/v1/org/staff", team_id=team_id).json()
    assert [s["username"] for s in listed] == ["xiaowang"]


def test_moving_a_team_moves_its_reps_region(org, api_as):
    api = api_as(org.admin)
    r = api.patch(f"/api/v1/org/teams/{org.n2.pk}", {"name": "北二组", "region_id": org.south.pk})
    assert r.status_code == 200, r.content
    org.other_team_rep.refresh_from_db()
    assert org.other_team_rep.region_id == org.south.pk


def test_deactivation_stops_tokens_at_once(org, api_as):
    rep_api = api_as(org.rep)
    assert rep_api.get("/api/v1/customers").status_code == 200
    r = api_as(org.admin).post(f"/api/v1/org/staff/{org.rep.pk}/deactivate")
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert rep_api.get("/api/v1/customers").status_code == 401
    # Reactivating does not revive the old token: it was revoked with the deactivation.
    r = api_as(org.admin).patch(f"/api/v1/org/staff/{org.rep.pk}", {"is_active": True})
    assert r.status_code == 200 and r.json()["is_active"] is True
    assert rep_api.get("/api/v1/customers").status_code == 401
    assert AuditEvent.objects.filter(action="user.permissions", target_id=str(org.rep.pk)).count() == 2


def test_deactivated_user_token_fails_even_without_the_api(org, api_as):
    """The token check itself requires an active user (a deactivation in the admin site)."""
    api = api_as(org.rep)
    User.objects.filter(pk=org.rep.pk).update(is_active=False)
    assert api.get("/api/v1/customers").status_code == 401


def test_non_admins_get_403_and_nothing_changes(org, api_as):
    for user in (org.rep, org.lead1, org.director):
        api = api_as(user)
        assert api.get("/api/v1/org/staff").status_code == 403
        assert api.get(f"/api/v1/org/staff/{org.rep.pk}").status_code == 403
        r = api.post("/api/v1/org/regions", {"name": "偷建大区"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert api.patch(f"/api/v1/org/staff/{user.pk}", {"role": "admin"}).status_code == 403
        assert api.post(f"/api/v1/org/staff/{org.teammate.pk}/deactivate").status_code == 403
    assert User.objects.get(pk=org.rep.pk).role == Role.REP
    assert User.objects.get(pk=org.teammate.pk).is_active


def test_bad_input_is_refused_clearly(org, api_as):
    api = api_as(org.admin)
    assert api.post("/api/v1/org/regions", {"name": org.north.name}).status_code == 409
    assert api.post("/api/v1/org/teams", {"name": "x", "region_id": 999999}).status_code == 400
    r = api.post("/api/v1/org/staff", {"username": "rep", "password": "long-enough-1"})
    assert r.status_code == 409
    r = api.post("/api/v1/org/staff", {"username": "new1", "password": "long-enough-1", "team_id": 999999})
    assert r.status_code == 400 and r.json()["field"] == "team_id"
    assert api.post("/api/v1/org/staff", {"username": "new2", "password": "short"}).status_code == 422
    assert api.get("/api/v1/org/staff/999999").status_code == 404
    # An administrator cannot lock themselves out.
    assert api.post(f"/api/v1/org/staff/{org.admin.pk}/deactivate").status_code == 400
    assert User.objects.get(pk=org.admin.pk).is_active
    assert not User.objects.filter(username__in=["new1", "new2"]).exists()


def test_hire_date_can_be_cleared(org, api_as):
    r = api_as(org.admin).patch(f"/api/v1/org/staff/{org.rep.pk}", {"hire_date": None, "display_name": "阿代"})
    assert r.status_code == 200
    org.rep.refresh_from_db()
    assert org.rep.hire_date is None and org.rep.display_name == "阿代"
    assert org.rep.check_password(PASSWORD)


def test_probation_until_is_set_checked_shown_and_cleared(org, api_as, client):
    import datetime as dt

    from django.utils import timezone

    api = api_as(org.admin)
    until = timezone.localdate() + dt.timedelta(days=20)
    r = api.patch(f"/api/v1/org/staff/{org.rep.pk}", {"probation_until": until.isoformat()})
    assert r.status_code == 200 and r.json()["probation_until"] == until.isoformat()
    assert api.get(f"/api/v1/org/staff/{org.rep.pk}").json()["probation_until"] == until.isoformat()
    client.force_login(User.objects.get(pk=org.rep.pk))
    assert "试用期至" in client.get("/account/").content.decode()  # the flag is off: the date decides
    r = api.patch(f"/api/v1/org/staff/{org.rep.pk}", {"hire_date": "2026-03-01", "probation_until": "2026-02-01"})
    assert r.status_code == 400 and r.json()["field"] == "probation_until"
    assert api.get(f"/api/v1/org/staff/{org.rep.pk}").json()["probation_until"] == until.isoformat()
    r = api.patch(f"/api/v1/org/staff/{org.rep.pk}", {"probation_until": None})
    assert r.status_code == 200 and r.json()["probation_until"] is None
    assert "试用期" not in client.get("/account/").content.decode()
