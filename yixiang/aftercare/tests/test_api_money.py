"""Money and delivery through the API: the panel's services and rules, scoped like the panel."""

import datetime as dt
from decimal import Decimal

import pytest

from yixiang.aftercare import services_contracts as services
from yixiang.aftercare.models import CareTask, Payment, Payout, PayoutIncident, Shipment

from .factories import sign


@pytest.fixture
def contract(org):
    customer = sign(org.customer(org.rep, "付款客户", phone="13800138001"))
    return services.contract_create(
        actor=org.rep, customer=customer, name="稳健二号", number="HT-M-1", start_date=dt.date(2025, 1, 1),
        amount="50000", payouts=[(dt.date(2025, 6, 30), "2500")],
    )  # fmt: skip


def test_payments_and_shipments_round_trip(org, api_as, contract):
    api = api_as(org.rep)
    cid = contract.customer_id
    r = api.post(
        f"/api/v1/customers/{cid}/payments",
        {"paid_on": "2025-02-01", "amount": "12000.50", "contract_id": contract.pk, "category": "煎烤旺"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["recorded_by_id"] == org.rep.pk and r.json()["contract_id"] == contract.pk
    payment = Payment.objects.get()
    assert payment.amount == Decimal("12000.50") and payment.category == "煎烤旺"
    r = api.post(f"/api/v1/customers/{cid}/shipments", {"shipped_on": "2025-02-03", "order_no": "SO-1"})
    assert r.status_code == 201 and Shipment.objects.get().order_no == "SO-1"
    assert [p["amount"] for p in api.get(f"/api/v1/customers/{cid}/payments").json()] == ["12000.50"]
    assert len(api.get(f"/api/v1/customers/{cid}/shipments").json()) == 1


def test_same_rules_as_the_panel(org, api_as, contract):
    api = api_as(org.rep)
    other = org.customer(org.rep, "别的客户")
    # Another customer's contract is refused by the service, and nothing is saved.
    r = api.post(
        f"/api/v1/customers/{other.pk}/payments", {"paid_on": "2025-02-01", "amount": "1", "contract_id": contract.pk}
    )
    assert r.status_code == 400 and r.json()["field"] == "contract"
    r = api.post(
        f"/api/v1/customers/{other.pk}/payments", {"paid_on": "2025-02-01", "amount": "1", "contract_id": 10**9}
    )
    assert r.status_code == 400 and r.json()["field"] == "contract_id"
    assert (
        api.post(f"/api/v1/customers/{other.pk}/payments", {"paid_on": "2025-02-01", "amount": "0"}).status_code == 422
    )
    assert not Payment.objects.exists()


def test_payout_schedule_and_paid(org, api_as, contract):
    api = api_as(org.rep)
    r = api.post(f"/api/v1/contracts/{contract.pk}/payouts", {"due_date": "2025-12-31", "amount": "2500"})
    assert r.status_code == 201 and r.json()["status"] == "scheduled"
    payout = Payout.objects.get(pk=r.json()["id"])
    notice = CareTask.objects.create(
        customer=contract.customer, rep=org.rep, kind=CareTask.Kind.PAYOUT_NOTICE, due_on=dt.date(2025, 12, 24),
        title="付息提醒", source_key=f"payout-notice:{payout.pk}",
    )  # fmt: skip
    r = api.post(f"/api/v1/payouts/{payout.pk}/paid", {"paid_on": "2025-12-31"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "paid" and r.json()["paid_on"] == "2025-12-31"
    notice.refresh_from_db()
    assert notice.done_at is not None and notice.done_by == org.rep


def test_incident_cause_and_resolution(org, api_as, contract):
    payout = contract.payouts.get()
    incident = PayoutIncident.objects.create(payout=payout)
    api = api_as(org.rep)
    r = api.patch(f"/api/v1/payout-incidents/{incident.pk}", {"cause": "wrong_card", "resolve": True})
    assert r.status_code == 400 and r.json()["field"] == "resolution"
    r = api.patch(
        f"/api/v1/payout-incidents/{incident.pk}", {"cause": "wrong_card", "resolution": "改卡号", "resolve": True}
    )
    assert r.status_code == 200 and r.json()["resolved_at"]


def test_out_of_scope_is_404_and_changes_nothing(org, api_as, contract):
    payout = contract.payouts.get()
    for user in (org.teammate, org.outsider, org.lead2):
        api = api_as(user)
        cid = contract.customer_id
        assert api.get(f"/api/v1/customers/{cid}/payments").status_code == 404
        assert (
            api.post(f"/api/v1/customers/{cid}/payments", {"paid_on": "2025-02-01", "amount": "5"}).status_code == 404
        )
        assert api.post(f"/api/v1/customers/{cid}/shipments", {"shipped_on": "2025-02-01"}).status_code == 404
        r = api.post(f"/api/v1/contracts/{contract.pk}/payouts", {"due_date": "2025-12-31", "amount": "1"})
        assert r.status_code == 404
        assert api.post(f"/api/v1/payouts/{payout.pk}/paid", {}).status_code == 404
    # The team lead may act on the rep's contract, as in the panel.
    assert api_as(org.lead1).post(f"/api/v1/payouts/{payout.pk}/paid", {}).status_code == 200
    assert not Payment.objects.exists() and not Shipment.objects.exists()
    assert contract.payouts.count() == 1
