"""Prospecting and regional events through the API: the pages' services, roles and scope."""

import json

from yixiang.aftercare.models import CareTask, RegionalEvent
from yixiang.pipeline.models import CustomerProfile, NeedCategory, ReleaseProposal


def test_need_categories_admin_writes_everyone_reads(org, api_as):
    r = api_as(org.rep).post("/api/v1/need-categories", {"name": "养老规划"})
    assert r.status_code == 403 and not NeedCategory.objects.filter(name="养老规划").exists()
    admin = api_as(org.admin)
    r = admin.post("/api/v1/need-categories", {"name": "养老规划", "products": "年金\n保险", "sort_order": 3})
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    assert admin.post("/api/v1/need-categories", {"name": "养老规划"}).status_code == 400
    r = admin.client.put(
        f"/api/v1/need-categories/{cid}",
        '{"name": "养老规划", "active": false}',
        content_type="application/json",
        headers=admin.headers,
    )
    assert r.status_code == 200 and NeedCategory.objects.get(pk=cid).active is False
    names = [c["name"] for c in api_as(org.rep).get("/api/v1/need-categories").json()]
    assert "养老规划" in names


def test_profile_and_keep(org, api_as):
    customer = org.customer(org.rep, "画像客户")
    category = NeedCategory.objects.create(name="子女教育")
    api = api_as(org.rep)
    put = api.client.put
    url = f"/api/v1/customers/{customer.pk}/profile"
    body = json.dumps({"need_category_id": category.pk, "internet_awareness": "high"})
    r = put(url, body, content_type="application/json", headers=api.headers)
    assert r.status_code == 200 and r.json()["need_category_id"] == category.pk
    assert CustomerProfile.objects.get(customer=customer).internet_awareness == "high"
    r = put(url, '{"need_category_id": 999999}', content_type="application/json", headers=api.headers)
    assert r.status_code == 400 and r.json()["field"] == "need_category_id"
    other = api_as(org.outsider)
    assert other.client.put(url, "{}", content_type="application/json", headers=other.headers).status_code == 404
    proposal = ReleaseProposal.objects.create(customer=customer, owner=org.rep, reason="no_rise")
    assert api_as(org.outsider).post(f"/api/v1/customers/{customer.pk}/keep").status_code == 404
    assert api.post(f"/api/v1/customers/{customer.pk}/keep").status_code == 204
    proposal.refresh_from_db()
    assert proposal.dismissed_at is not None


def test_regional_event_by_a_lead_not_a_rep(org, api_as):
    org.customer(org.rep, "郑州客户", province="河南", city="郑州")
    body = {"kind": "flood", "title": "郑州暴雨", "on": "2026-07-20", "province": "河南", "city": "郑州"}
    r = api_as(org.rep).post("/api/v1/regional-events", body)
    assert r.status_code == 403 and not RegionalEvent.objects.exists()
    r = api_as(org.lead1).post("/api/v1/regional-events", body)
    assert r.status_code == 201, r.content
    assert r.json()["tasks_created"] == CareTask.objects.filter(kind="regional").count()
    r = api_as(org.lead1).post("/api/v1/regional-events", {**body, "region_id": org.south.pk})
    assert r.status_code == 400 and RegionalEvent.objects.count() == 1
    assert [e["title"] for e in api_as(org.lead1).get("/api/v1/regional-events").json()] == ["郑州暴雨"]
    assert api_as(org.outsider).get("/api/v1/regional-events").json() == []


def test_campaign_messages_reply_and_resend(org, api_as):
    from yixiang.aftercare.models import Message
    from yixiang.aftercare.tests.factories import sign

    sign(org.customer(org.rep, "短信客户", phone="13800138009"))
    api = api_as(org.rep)
    payload = {"name": "问候", "template": "{name}您好", "segment": {"signed_only": True}, "launch": True}
    cid = api.post("/api/v1/campaigns", payload).json()["id"]
    listed = api.get(f"/api/v1/campaigns/{cid}/messages").json()
    assert len(listed) == 1
    mid = listed[0]["id"]
    assert api_as(org.outsider).get(f"/api/v1/campaigns/{cid}/messages").status_code == 404
    assert api_as(org.outsider).post(f"/api/v1/campaign-messages/{mid}/reply", {"text": "谢谢"}).status_code == 404
    r = api.post(f"/api/v1/campaign-messages/{mid}/reply", {"text": "谢谢，下周见"})
    assert r.status_code == 200 and r.json()["reply_text"] == "谢谢，下周见" and r.json()["replied_at"]
    Message.objects.filter(pk=mid).update(status=Message.Status.SENT)
    assert api.post(f"/api/v1/campaign-messages/{mid}/resend").status_code == 409
    Message.objects.filter(pk=mid).update(status=Message.Status.FAILED, error="网关超时")
    r = api.post(f"/api/v1/campaign-messages/{mid}/resend")
    # Back in the queue (the worker, inline in tests, may already have sent it): no longer failed.
    assert r.status_code == 200 and r.json()["status"] != "failed" and r.json()["error"] != "网关超时"
