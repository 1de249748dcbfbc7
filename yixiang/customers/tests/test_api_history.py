"""A customer's history through the API: stage, owner and field changes, paged, scoped."""

from yixiang.customers import services as customer_services
from yixiang.pipeline import pool
from yixiang.pipeline import services as pipeline_services


def test_stage_owner_and_field_history_paged(org, api_as):
    customer = org.customer(org.rep, "历史客户", phone="13800138002")
    for stage in (1, 2, 3):
        pipeline_services.followup_log(actor=org.rep, customer=customer, stage=stage, summary=f"第{stage}次")
    customer_services.customer_update(actor=org.rep, customer=customer, data={"city": "北京"})
    pool.customer_hand_over(actor=org.lead1, customer=customer, to_user=org.teammate, note="交接")
    api = api_as(org.lead1)
    r = api.get(f"/api/v1/customers/{customer.pk}/history/stages", limit=2)
    assert r.status_code == 200, r.content
    page = r.json()
    assert [row["to_stage"] for row in page["items"]] == [3, 2] and page["next_offset"] == 2
    assert page["items"][0]["by"]["username"] == "rep" and page["items"][0]["owner_id"] == org.rep.pk
    rest = api.get(f"/api/v1/customers/{customer.pk}/history/stages", offset=2, limit=2).json()
    assert [row["to_stage"] for row in rest["items"]] == [1] and rest["next_offset"] is None
    owners = api.get(f"/api/v1/customers/{customer.pk}/history/owners").json()["items"]
    assert owners[0]["reason"] == "handover" and owners[0]["to_owner"]["username"] == "teammate"
    assert owners[0]["from_owner"]["username"] == "rep" and owners[0]["note"] == "交接"
    changes = api.get(f"/api/v1/customers/{customer.pk}/history/changes").json()["items"]
    assert any(c["changes"].get("city") == ["", "北京"] for c in changes), changes
    assert changes[-1]["action"] == "create"


def test_history_is_scoped_and_bounded(org, api_as):
    customer = org.customer(org.rep, "别人的客户")
    for user in (org.teammate, org.outsider, org.lead2):
        for kind in ("stages", "owners", "changes"):
            assert api_as(user).get(f"/api/v1/customers/{customer.pk}/history/{kind}").status_code == 404
    api = api_as(org.rep)
    assert api.get(f"/api/v1/customers/{customer.pk}/history/stages", limit=201).status_code == 422
    assert api.get(f"/api/v1/customers/{customer.pk}/history/changes", offset=-1).status_code == 422
