"""Payout notices, late payouts (incidents) and renewal talks, with their timing."""

import datetime as dt
from decimal import Decimal

import pytest

from yixiang.aftercare import services_contracts
from yixiang.aftercare.models import CareTask, Contract, Payout, PayoutIncident
from yixiang.errors import Conflict, ValidationFailed

from .factories import sign

D = dt.date


@pytest.fixture
def contract(org):
    customer = sign(org.customer(org.rep, "王五", phone="13800138001"))
    return services_contracts.contract_create(
        actor=org.rep, customer=customer, name="稳健项目", number="HT-001", start_date=D(2025, 1, 1),
        end_date=D(2025, 12, 31), amount="100000", payout_card="6222 0212 3456 1234",
        payouts=[(D(2025, 6, 20), "5000"), (D(2025, 9, 20), "5000")],
    )  # fmt: skip


def test_contract_card_encrypted_at_rest_and_masked(contract):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT payout_card FROM aftercare_contract WHERE id = %s", [contract.pk])
        raw = cur.fetchone()[0]
    assert "6222021234561234" not in raw
    assert Contract.objects.get(pk=contract.pk).payout_card == "6222021234561234"
    assert contract.payout_card_masked == "6222 **** **** 1234"
    assert contract.payouts.count() == 2


def test_contract_validation_and_duplicate_number(org, contract):
    with pytest.raises(Conflict):
        services_contracts.contract_create(
            actor=org.rep, customer=contract.customer, name="x", number="HT-001", start_date=D(2025, 1, 1), amount=1
        )
    with pytest.raises(ValidationFailed) as exc:
        services_contracts.contract_create(
            actor=org.rep, customer=contract.customer, name="x", number="HT-002", start_date=D(2025, 2, 1),
            end_date=D(2025, 1, 1), amount=1,
        )  # fmt: skip
    assert "end_date" in exc.value.errors
    with pytest.raises(ValidationFailed):
        services_contracts.contract_create(
            actor=org.rep, customer=contract.customer, name="x", number="HT-003", start_date=D(2025, 1, 1),
            amount=1, payout_card="1234-abc",
        )  # fmt: skip
    assert Contract.objects.count() == 1


def test_payout_notice_exactly_seven_days_ahead(contract, org):
    assert services_contracts.payout_reminders_run(today=D(2025, 6, 12))["notices"] == 0
    assert services_contracts.payout_reminders_run(today=D(2025, 6, 13))["notices"] == 1
    task = CareTask.objects.get(kind=CareTask.Kind.PAYOUT_NOTICE)
    assert task.due_on == D(2025, 6, 13) and task.occasion_on == D(2025, 6, 20)
    assert task.rep == org.rep and "1234" in task.suggestion and "5,000 元" in task.title
    # Idempotent: running again (even on later days) creates nothing new.
    assert services_contracts.payout_reminders_run(today=D(2025, 6, 14))["notices"] == 0
    assert CareTask.objects.filter(kind=CareTask.Kind.PAYOUT_NOTICE).count() == 1


def test_payout_notice_days_is_a_setting(contract, settings):
    settings.YIXIANG = {**settings.YIXIANG, "PAYOUT_NOTICE_DAYS": 10}
    assert services_contracts.payout_reminders_run(today=D(2025, 6, 10))["notices"] == 1


def test_late_payout_opens_an_incident_and_resolving_closes_the_task(contract, org):
    assert services_contracts.payout_reminders_run(today=D(2025, 6, 20))["late"] == 0  # due today: not late yet
    result = services_contracts.payout_reminders_run(today=D(2025, 6, 21))
    assert result["late"] == 1 and result["incidents"] == 1
    payout = Payout.objects.get(due_date=D(2025, 6, 20))
    assert payout.status == Payout.Status.LATE
    incident = PayoutIncident.objects.get(payout=payout)
    task = CareTask.objects.get(kind=CareTask.Kind.PAYOUT_LATE)
    assert task.due_on == D(2025, 6, 21) and task.done_at is None
    assert services_contracts.payout_reminders_run(today=D(2025, 6, 22)) == {"notices": 0, "late": 0, "incidents": 0}

    with pytest.raises(ValidationFailed):
        services_contracts.incident_update(actor=org.rep, incident=incident, cause="wrong_card", resolve=True)
    services_contracts.incident_update(
        actor=org.rep, incident=incident, cause="wrong_card", cause_detail="卡号少一位",
        resolution="客户更正卡号，财务已重新打款", resolve=True,
    )  # fmt: skip
    incident.refresh_from_db()
    task.refresh_from_db()
    assert incident.resolved_at is not None and incident.cause == "wrong_card"
    assert task.done_at is not None


def test_paid_payout_is_never_late_and_closes_its_notice(contract, org):
    services_contracts.payout_reminders_run(today=D(2025, 6, 14))
    payout = Payout.objects.get(due_date=D(2025, 6, 20))
    services_contracts.payout_mark_paid(actor=org.rep, payout=payout, paid_on=D(2025, 6, 20))
    assert CareTask.objects.get(kind=CareTask.Kind.PAYOUT_NOTICE).done_at is not None
    assert services_contracts.payout_reminders_run(today=D(2025, 6, 25))["late"] == 0


def test_renewal_task_thirty_days_before_the_end(contract, org):
    assert services_contracts.renewal_reminders_run(today=D(2025, 11, 30)) == 0
    assert services_contracts.renewal_reminders_run(today=D(2025, 12, 1)) == 1
    task = CareTask.objects.get(kind=CareTask.Kind.RENEWAL)
    assert task.due_on == D(2025, 12, 1) and task.occasion_on == D(2025, 12, 31) and task.rep == org.rep
    assert services_contracts.renewal_reminders_run(today=D(2025, 12, 2)) == 0
    # An ended contract asks for nothing.
    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.ENDED)
    CareTask.objects.all().delete()
    assert services_contracts.renewal_reminders_run(today=D(2025, 12, 5)) == 0


def test_payments_and_shipments_recorded(contract, org):
    p = services_contracts.payment_record(
        actor=org.rep, customer=contract.customer, paid_on=D(2025, 1, 2), amount="7950", contract=contract
    )
    s = services_contracts.shipment_record(
        actor=org.rep, customer=contract.customer, shipped_on=D(2025, 1, 5), order_no="SO-1"
    )
    assert p.amount == Decimal("7950.00") and s.order_no == "SO-1"
    other = org.customer(org.rep, "别人")
    with pytest.raises(ValidationFailed):
        services_contracts.payment_record(
            actor=org.rep, customer=other, paid_on=D(2025, 1, 2), amount=1, contract=contract
        )
    with pytest.raises(ValidationFailed):
        services_contracts.payment_record(actor=org.rep, customer=other, paid_on=D(2025, 1, 2), amount="-5")


def test_a_payout_turning_late_queues_one_overdue_webhook(contract, org):
    import json

    from yixiang.accounts import webhooks
    from yixiang.accounts.models import WebhookDelivery

    webhooks.endpoint_create(actor=org.admin, url="http://127.0.0.1:9/hook", events=["payout.overdue"])
    services_contracts.payout_reminders_run(today=D(2025, 6, 20))  # due today: not late yet
    assert not WebhookDelivery.objects.exists()
    services_contracts.payout_reminders_run(today=D(2025, 6, 21))
    services_contracts.payout_reminders_run(today=D(2025, 6, 22))  # already late: no second event
    (row,) = WebhookDelivery.objects.all()
    data = json.loads(row.body)["data"]
    assert row.event == "payout.overdue"
    assert (data["due_date"], data["amount"], data["days_late"]) == ("2025-06-20", "5000.00", 1)
    assert data["customer"]["name"] == "王五" and data["contract"] == "稳健项目"
