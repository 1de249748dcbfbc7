"""Scheme versions through the API: everyone reads, administrators create and change, audited."""

import datetime as dt
import json

import pytest

from yixiang.accounts.models import AuditEvent
from yixiang.incentives.models import SchemeVersion


def _put(api, url, data):
    return api.client.put(url, json.dumps(data), content_type="application/json", headers=api.headers)


@pytest.fixture(autouse=True)
def _seeded_version_ends(db):
    # The migration seeds an open-ended version from 2012: it ends before the versions made here.
    SchemeVersion.objects.filter(valid_to__isnull=True).update(valid_to=dt.date(2025, 12, 31))
    return SchemeVersion.objects.count()


def test_admin_creates_and_changes_a_version_everyone_reads(org, api_as):
    admin = api_as(org.admin)
    r = admin.post(
        "/api/v1/incentives/schemes",
        {"name": "2026版", "valid_from": "2026-01-01", "counted_categories": ["煎烤旺", " "],
         "penalties": {"2": [900, 300], "1": [500]}},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["penalties"] == {"2": [900, 300], "1": [500]} and body["counted_categories"] == ["煎烤旺"]
    assert body["valid_floor"] == 7950 and body["target_due_time"] == "08:00"  # the seed's values when left out
    version = SchemeVersion.objects.get(pk=body["id"])
    assert version.updated_by == org.admin
    assert AuditEvent.objects.filter(action="incentive_scheme_saved", target_id=str(version.pk)).exists()
    r = _put(admin, f"/api/v1/incentives/schemes/{version.pk}", {**body, "name": "2026版(修订)"})
    assert r.status_code == 200 and r.json()["name"] == "2026版(修订)"
    listed = api_as(org.rep).get("/api/v1/incentives/schemes")
    assert listed.status_code == 200 and listed.json()[0]["name"] == "2026版(修订)"


def test_only_admins_write_and_the_service_rules_hold(org, api_as, _seeded_version_ends):
    before = _seeded_version_ends
    payload = {"name": "偷改", "valid_from": "2026-01-01"}
    for user in (org.rep, org.lead1, org.director):
        r = api_as(user).post("/api/v1/incentives/schemes", payload)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert SchemeVersion.objects.count() == before
    admin = api_as(org.admin)
    assert admin.post("/api/v1/incentives/schemes", {**payload, "name": "甲"}).status_code == 201
    # Overlapping dates are refused by the service, and so is an unusable table.
    r = admin.post("/api/v1/incentives/schemes", {"name": "乙", "valid_from": "2026-06-01"})
    assert r.status_code == 400 and r.json()["field"] in ("valid_from", "penalties")
    r = admin.post("/api/v1/incentives/schemes", {"name": "丙", "valid_from": "2030-01-01", "penalties": {"x": [1]}})
    assert r.status_code == 400
    assert (
        admin.post(
            "/api/v1/incentives/schemes", {"name": "丁", "valid_from": "2031-01-01", "probation_factor": 2}
        ).status_code
        == 422
    )
    assert SchemeVersion.objects.count() == before + 1
    version = SchemeVersion.objects.get(name="甲")
    assert _put(api_as(org.rep), f"/api/v1/incentives/schemes/{version.pk}", payload).status_code == 403
    assert _put(admin, "/api/v1/incentives/schemes/999999", {**payload, "name": "戊"}).status_code == 404
