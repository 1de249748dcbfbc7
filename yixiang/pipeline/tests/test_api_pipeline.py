"""The pipeline API: Bearer auth, scoping (out of scope is 404), clear 4xx, the documented schema."""

import datetime as dt

import pytest
from django.utils import timezone

from yixiang.customers.models import Customer
from yixiang.pipeline.models import FollowUp, OwnerChange
from yixiang.pipeline.tests.factories import set_state

pytestmark = pytest.mark.django_db


def test_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in (
        "/api/v1/agenda",
        "/api/v1/customers/{customer_id}/follow-ups",
        "/api/v1/customers/{customer_id}/claim",
        "/api/v1/customers/{customer_id}/release",
        "/api/v1/customers/{customer_id}/sign",
        "/api/v1/customers/{customer_id}/lock",
        "/api/v1/pool",
        "/api/v1/team/review",
        "/api/v1/distributions",
    ):
        assert p in paths, p


def test_no_token_is_401(client, org):
    assert client.get("/api/v1/agenda").status_code == 401
    assert client.post("/api/v1/customers/1/claim").status_code == 401


def test_log_a_follow_up_and_list_them(org, api_as):
    c = org.customer(org.rep)
    api = api_as(org.rep)
    r = api.post(
        f"/api/v1/customers/{c.pk}/follow-ups",
        {
            "channel": "phone",
            "summary": "问了价格和售后",
            "signals": ["asks_price"],
            "stage": 3,
            "duration_minutes": 12,
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["stage_before"], body["stage_after"], body["proposed_stage_signals"], body["proposed_stage_text"]) == (
        0,
        3,
        3,
        3,
    )
    assert body["text_keywords"] == ["价格", "售后"]
    listed = api.get(f"/api/v1/customers/{c.pk}/follow-ups").json()
    assert [f["id"] for f in listed] == [body["id"]]


def test_a_future_follow_up_is_a_400_with_the_field(org, api_as):
    c = org.customer(org.rep)
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    r = api_as(org.rep).post(f"/api/v1/customers/{c.pk}/follow-ups", {"at": future, "stage": 1})
    assert r.status_code == 400
    assert r.json()["field"] == "at" and r.json()["errors"]["at"]
    assert not FollowUp.objects.exists()


def test_a_naive_time_is_read_as_local_time(org, api_as):
    c = org.customer(org.rep)
    local = timezone.localtime() - dt.timedelta(hours=1)
    r = api_as(org.rep).post(
        f"/api/v1/customers/{c.pk}/follow-ups", {"at": local.replace(tzinfo=None).isoformat(), "stage": 0}
    )
    assert r.status_code == 201, r.content
    assert abs(FollowUp.objects.get().at - local) < dt.timedelta(seconds=1)


def test_out_of_scope_customers_are_404_everywhere(org, api_as):
    theirs = org.customer(org.outsider)
    api = api_as(org.rep)
    for url, body in (
        (f"/api/v1/customers/{theirs.pk}/follow-ups", {"stage": 1}),
        (f"/api/v1/customers/{theirs.pk}/claim", {}),
        (f"/api/v1/customers/{theirs.pk}/release", {"reason": "no_rise"}),
        (f"/api/v1/customers/{theirs.pk}/sign", {"amount": "100"}),
        (f"/api/v1/customers/{theirs.pk}/lock", {"locked": True}),
    ):
        r = api.post(url, body)
        assert r.status_code == 404, url
    assert api.get(f"/api/v1/customers/{theirs.pk}/follow-ups").status_code == 404
    assert api.get("/api/v1/customers/999999/follow-ups").status_code == 404
    assert Customer.objects.get(pk=theirs.pk).owner == org.outsider


def test_a_teammates_customer_is_404_for_a_rep_but_the_lead_may_log(org, api_as):
    c = org.customer(org.teammate)
    assert api_as(org.rep).post(f"/api/v1/customers/{c.pk}/follow-ups", {"stage": 1}).status_code == 404
    ok = {"stage": 1, "signals": ["interacts"]}  # a rise with evidence (see test_aftersale_followup)
    assert api_as(org.lead1).post(f"/api/v1/customers/{c.pk}/follow-ups", ok).status_code == 201


def test_claim_release_claim_again_and_the_limits_say_which(org, api_as, settings):
    c = org.customer(None)
    rep, mate = api_as(org.rep), api_as(org.teammate)
    r = rep.post(f"/api/v1/customers/{c.pk}/claim")
    assert r.status_code == 200 and r.json()["owner_id"] == org.rep.pk
    r = mate.post(f"/api/v1/customers/{c.pk}/claim")
    assert r.status_code == 404  # now the rep's customer: not visible to a teammate
    r = rep.post(f"/api/v1/customers/{c.pk}/release", {"reason": "other"})
    assert r.status_code == 400 and r.json()["field"] == "note"
    r = rep.post(f"/api/v1/customers/{c.pk}/release", {"reason": "no_decision_maker"})
    assert r.status_code == 200 and r.json()["owner_id"] is None
    r = rep.post(f"/api/v1/customers/{c.pk}/claim")
    assert r.status_code == 409 and r.json()["code"] == "reclaim_blocked"
    settings.YIXIANG = {**settings.YIXIANG, "MAX_TRACKED": 0}
    r = mate.post(f"/api/v1/customers/{c.pk}/claim")
    assert r.status_code == 409 and r.json()["code"] == "max_tracked"
    assert list(OwnerChange.objects.filter(customer=c).order_by("at").values_list("reason", flat=True)) == [
        "claim",
        "release",
    ]


def test_claiming_an_owned_customer_in_scope_is_a_409(org, api_as):
    c = org.customer(org.rep)
    r = api_as(org.lead1).post(f"/api/v1/customers/{c.pk}/claim")
    assert r.status_code == 409 and r.json()["code"] == "already_claimed"


def test_sign_and_lock(org, api_as):
    c = org.customer(org.rep)
    api = api_as(org.rep)
    r = api.post(f"/api/v1/customers/{c.pk}/lock", {"locked": True})
    assert r.status_code == 200 and r.json()["recycle_locked"] is True
    r = api.post(f"/api/v1/customers/{c.pk}/sign", {"amount": "-5"})
    assert r.status_code == 422
    r = api.post(f"/api/v1/customers/{c.pk}/sign", {"amount": "7950", "paid_amount": "7950"})
    assert r.status_code == 200, r.content
    assert r.json()["customer"]["stage"] == 5 and r.json()["contract_number"]
    r = api.post(f"/api/v1/customers/{c.pk}/sign", {"amount": "7950"})
    assert r.status_code == 409


def test_agenda(org, api_as):
    c = set_state(org.customer(org.rep, name="到期"), stage=3, next_due_on=timezone.localdate() - dt.timedelta(days=2))
    set_state(org.customer(org.teammate, name="别人"), next_due_on=timezone.localdate())
    r = api_as(org.rep).get("/api/v1/agenda", date=timezone.localdate().isoformat())
    assert r.status_code == 200
    body = r.json()
    assert [(i["customer_id"], i["overdue_days"]) for i in body["items"]] == [(c.pk, 2)]
    assert {b["band"] for b in body["balance"]} == {"0", "1-2", "3-4"}
    assert api_as(org.rep).get("/api/v1/agenda", date="not-a-date").status_code == 422


def test_pool_lists_only_unowned_customers(org, api_as):
    pooled = org.customer(None, name="公海客户")
    org.customer(org.rep, name="我的")
    body = api_as(org.outsider).get("/api/v1/pool").json()
    assert [i["id"] for i in body["items"]] == [pooled.pk] and body["count"] == 1


def test_team_review(org, api_as):
    c = org.customer(org.rep)
    r = api_as(org.rep).post(f"/api/v1/customers/{c.pk}/follow-ups", {"stage": 2, "confirm_stage": True})
    assert r.status_code == 201, r.content
    today = timezone.localdate().isoformat()
    r = api_as(org.lead1).get("/api/v1/team/review", **{"from": today, "to": today})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["from"] == today
    rows = {m["name"]: m for m in body["members"]}
    assert set(rows) == {"lead1", "rep", "teammate"}
    assert (rows["rep"]["follow_ups"], rows["rep"]["rises"]) == (1, 1)
    r = api_as(org.south_lead).get("/api/v1/team/review", **{"from": today, "to": today})
    assert "rep" not in {m["name"] for m in r.json()["members"]}
    r = api_as(org.lead1).get("/api/v1/team/review", **{"from": today, "to": "2000-01-01"})
    assert r.status_code == 400


def test_distributions(org, api_as):
    leads = [org.customer(None, name=f"名单{i}") for i in range(3)]
    body = {"customer_ids": [c.pk for c in leads], "method": "round_robin", "rep_ids": [org.rep.pk, org.teammate.pk]}
    assert api_as(org.rep).post("/api/v1/distributions", body).status_code == 403
    r = api_as(org.lead1).post("/api/v1/distributions", {**body, "rep_ids": [org.outsider.pk]})
    assert r.status_code == 400
    r = api_as(org.lead1).post("/api/v1/distributions", body)
    assert r.status_code == 201, r.content
    assigned = {a["customer_id"]: a["rep_id"] for a in r.json()["assigned"]}
    assert assigned == {leads[0].pk: org.rep.pk, leads[1].pk: org.teammate.pk, leads[2].pk: org.rep.pk}


def test_stage_proposal_endpoint(org, api_as):
    r = api_as(org.rep).post("/api/v1/follow-ups/proposal", {"signals": ["interacts"], "text": "他说要带合同来签"})
    assert r.json() == {"from_signals": 1, "from_text": 4, "text_keywords": ["合同", "签"], "unknown_signals": []}


def test_hand_over(org, api_as):
    c = org.customer(org.rep)
    assert (
        api_as(org.rep).post(f"/api/v1/customers/{c.pk}/hand-over", {"to_user_id": org.teammate.pk}).status_code == 403
    )
    r = api_as(org.lead1).post(f"/api/v1/customers/{c.pk}/hand-over", {"to_user_id": org.outsider.pk})
    assert r.status_code == 400
    r = api_as(org.lead1).post(f"/api/v1/customers/{c.pk}/hand-over", {"to_user_id": org.teammate.pk, "note": "调岗"})
    assert r.status_code == 200 and r.json()["owner_id"] == org.teammate.pk
    assert (
        api_as(org.south_lead).post(f"/api/v1/customers/{c.pk}/hand-over", {"to_user_id": org.outsider.pk}).status_code
        == 404
    )


def test_a_lead_confirms_a_stage_three_recycling_through_the_api(org, api_as):
    from yixiang.pipeline import pool

    hot = set_state(
        org.customer(org.rep, name="考虑签约"),
        stage=3,
        next_due_on=timezone.localdate() - dt.timedelta(days=45),
        held_since=timezone.now() - dt.timedelta(days=50),
    )
    pool.recycle_run()
    lead = api_as(org.lead1)
    listed = lead.get("/api/v1/recycle-proposals").json()
    assert [(p["customer_id"], p["reason"], p["stage"]) for p in listed] == [(hot.pk, "overdue", 3)]
    assert api_as(org.rep).get("/api/v1/recycle-proposals").json() == []
    r = lead.post(f"/api/v1/customers/{hot.pk}/recycle-decision", {"recycle": True})
    assert r.status_code == 200, r.content
    assert Customer.objects.get(pk=hot.pk).owner is None
    again = lead.post(f"/api/v1/customers/{hot.pk}/recycle-decision", {"recycle": True})
    assert again.status_code in (404, 409)
