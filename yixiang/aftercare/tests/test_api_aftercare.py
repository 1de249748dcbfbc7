"""The after-sale API: contracts, care tasks, campaigns, referral trees — scoped, 404 outside."""

import datetime as dt

import pytest

from yixiang.aftercare import services
from yixiang.aftercare.models import CareTask, Contract
from yixiang.customers.models import Customer

from .factories import sign

D = dt.date


@pytest.fixture
def customer(org):
    return sign(org.customer(org.rep, "接口客户", phone="13800138000"))


CONTRACT = {
    "name": "稳健一号",
    "number": "HT-API-1",
    "start_date": "2025-01-01",
    "end_date": "2025-12-31",
    "amount": "80000.00",
    "payout_card": "6222021234561234",
    "payouts": [{"due_date": "2025-06-30", "amount": "4000"}],
}


def test_create_and_list_contracts_with_masked_card(org, api_as, customer):
    api = api_as(org.rep)
    r = api.post(f"/api/v1/customers/{customer.pk}/contracts", CONTRACT)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["payout_card_masked"] == "6222 **** **** 1234"
    assert "6222021234561234" not in r.content.decode()
    assert body["payouts"][0]["due_date"] == "2025-06-30" and body["payouts"][0]["status"] == "scheduled"
    listed = api.get(f"/api/v1/customers/{customer.pk}/contracts").json()
    assert [c["number"] for c in listed] == ["HT-API-1"]
    # Duplicate number: 409 with a clear message; bad dates: 400; nothing written.
    assert api.post(f"/api/v1/customers/{customer.pk}/contracts", CONTRACT).status_code == 409
    bad = api.post(f"/api/v1/customers/{customer.pk}/contracts", {**CONTRACT, "number": "X", "end_date": "2024-01-01"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert Contract.objects.count() == 1


def test_contracts_scoping(org, api_as, customer):
    for user in (org.outsider, org.other_team_rep, org.south_director):
        api = api_as(user)
        assert api.get(f"/api/v1/customers/{customer.pk}/contracts").status_code == 404
        assert api.post(f"/api/v1/customers/{customer.pk}/contracts", CONTRACT).status_code == 404
        assert api.get(f"/api/v1/customers/{customer.pk}/referrals").status_code == 404
    assert api_as(org.lead1).get(f"/api/v1/customers/{customer.pk}/contracts").status_code == 200
    assert api_as(org.director).get(f"/api/v1/customers/{customer.pk}/contracts").status_code == 200
    assert api_as(org.rep).get("/api/v1/customers/999999/contracts").status_code == 404
    assert not Contract.objects.exists()


def test_care_tasks_by_range_and_scope(org, api_as, customer):
    mate = org.customer(org.teammate, "同事的")
    services.tasks_create(
        [
            CareTask(
                kind="birthday", customer=customer, rep=org.rep, due_on=D(2025, 3, 1), title="生日", source_key="a"
            ),
            CareTask(
                kind="renewal", customer=customer, rep=org.rep, due_on=D(2025, 4, 1), title="续约", source_key="b"
            ),
            CareTask(
                kind="festival", customer=mate, rep=org.teammate, due_on=D(2025, 3, 2), title="节日", source_key="c"
            ),
        ]
    )
    r = api_as(org.rep).get("/api/v1/care", **{"from": "2025-03-01", "to": "2025-03-31"})
    assert r.status_code == 200
    assert [t["title"] for t in r.json()] == ["生日"]
    assert r.json()[0]["customer_name"] == "接口客户"
    lead = api_as(org.lead1).get("/api/v1/care", **{"from": "2025-03-01", "to": "2025-03-31"}).json()
    assert sorted(t["title"] for t in lead) == ["生日", "节日"]
    assert api_as(org.outsider).get("/api/v1/care", **{"from": "2025-03-01", "to": "2025-04-30"}).json() == []
    assert api_as(org.rep).get("/api/v1/care", **{"from": "2025-03-05", "to": "2025-03-01"}).status_code == 400
    only = api_as(org.rep).get("/api/v1/care", **{"from": "2025-01-01", "to": "2025-12-31", "kind": "renewal"}).json()
    assert [t["title"] for t in only] == ["续约"]


def test_campaigns_api(org, api_as, customer):
    api = api_as(org.rep)
    payload = {"name": "新春问候", "template": "{name}，新春快乐！{rep}", "segment": {"signed_only": True, "tiers": []}}
    r = api.post("/api/v1/campaigns", payload)
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    assert r.json()["status"] == "draft" and r.json()["reply_window_hours"] == 12
    assert [c["id"] for c in api.get("/api/v1/campaigns").json()] == [cid]
    assert api_as(org.lead1).get(f"/api/v1/campaigns/{cid}").status_code == 200
    assert api_as(org.outsider).get(f"/api/v1/campaigns/{cid}").status_code == 404
    assert api_as(org.outsider).get("/api/v1/campaigns").json() == []
    assert api_as(org.outsider).post(f"/api/v1/campaigns/{cid}/launch").status_code == 404
    bad = api.post("/api/v1/campaigns", {**payload, "template": "{nam}"})
    assert bad.status_code == 400 and "{nam}" in bad.json()["detail"]
    launched = api.post(f"/api/v1/campaigns/{cid}/launch")
    assert launched.status_code == 200 and launched.json()["messages"] == 1
    assert api.post(f"/api/v1/campaigns/{cid}/launch").status_code == 409


def test_referral_tree_api(org, api_as, customer):
    friend = org.customer(org.rep, "朋友")
    Customer.objects.filter(pk=friend.pk).update(referrer=customer, stage=5)
    body = api_as(org.rep).get(f"/api/v1/customers/{customer.pk}/referrals").json()
    assert body["referred_count"] == 1 and body["conversion_percent"] == 100
    assert body["children"][0]["name"] == "朋友" and body["children"][0]["signed"] is True


def test_openapi_lists_the_aftercare_paths(org, api_as):
    schema = api_as(org.rep).get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/customers/{customer_id}/contracts",
        "/api/v1/care",
        "/api/v1/campaigns",
        "/api/v1/customers/{customer_id}/referrals",
    ):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/customers/{customer_id}/contracts"]
    assert "post" in schema["paths"]["/api/v1/campaigns"]


def test_unauthenticated_is_401(db, client):
    assert client.get("/api/v1/care").status_code == 401
