"""Money actions ask first and can be taken back: "已返款" and a recorded payment, undone by the
same person within UNDO_MINUTES, refused after it or for anyone else; every undo is audited."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yixiang.accounts.models import AuditAction, AuditEvent
from yixiang.aftercare import services_contracts as services
from yixiang.aftercare import undo
from yixiang.aftercare.models import CareTask, Payment, Payout
from yixiang.errors import DomainError

from .factories import pay, sign

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
LATER = dt.timedelta(minutes=11)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def payout(org):
    customer = sign(org.customer(org.rep, "周玉兰"))
    today = timezone.localdate()
    contract = services.contract_create(
        actor=org.rep, customer=customer, name="推广项目", number="HT1", start_date=today,
        end_date=today + dt.timedelta(days=365), amount=Decimal("7950"), payouts=[(today + dt.timedelta(days=5), 795)],
    )  # fmt: skip
    return contract.payouts.get()


def test_the_rule_same_person_within_the_window():
    now = timezone.now()
    ok = {"actor_id": 1, "done_by_id": 1, "done_at": now - dt.timedelta(minutes=9), "now": now, "minutes": 10}
    assert undo.undo_refusal(**ok) is None
    assert undo.undo_refusal(**(ok | {"done_by_id": 2})) == undo.UNDO_NOT_YOURS
    assert undo.undo_refusal(**(ok | {"done_at": now - LATER})) == undo.UNDO_TOO_LATE
    assert undo.undo_refusal(**(ok | {"done_at": None})) == undo.UNDO_NOTHING


def test_paid_button_asks_for_confirmation_with_the_amount_in_yuan(org, payout):
    html = _client(org.rep).get(reverse("customer_aftercare_panel", args=[payout.contract.customer_id])).content
    html = html.decode()
    form = html.split(f'action="/aftercare/payouts/{payout.pk}/paid/"')[1].split("</form>")[0]
    assert "hx-confirm=" in form and "795 元" in form
    assert "7,950 元" in html  # the contract amount, one money style
    payment_form = html.split(f'action="/customers/{payout.contract.customer_id}/aftercare/payment/"')[1].split(">")[0]
    assert 'hx-confirm="确认记录这笔收款' in payment_form


def test_mark_paid_then_undo_restores_the_payout_and_its_notice(org, payout):
    task = CareTask.objects.create(
        kind="payout", customer=payout.contract.customer, rep=org.rep, due_on=timezone.localdate(),
        title="通知返款", source_key=f"payout-notice:{payout.pk}",
    )  # fmt: skip
    c = _client(org.rep)
    r = c.post(reverse("aftercare_payout_paid", args=[payout.pk]), headers=HTMX)
    html = r.content.decode()
    assert "的返款标记为已返款" in html and "795 元" in html
    assert f"/aftercare/payouts/{payout.pk}/paid/undo/" in html
    payout.refresh_from_db()
    task.refresh_from_db()
    assert payout.status == Payout.Status.PAID and task.done_at is not None
    assert "分钟内可撤销" in html
    r = c.post(reverse("aftercare_payout_paid_undo", args=[payout.pk]), headers=HTMX)
    assert "已撤销" in r.content.decode() and "分钟内可撤销" not in r.content.decode()
    payout.refresh_from_db()
    task.refresh_from_db()
    assert (payout.status, payout.paid_on) == (Payout.Status.SCHEDULED, None)
    assert task.done_at is None
    rows = AuditEvent.objects.filter(target_type="payout", target_id=str(payout.pk))
    assert list(rows.values_list("action", flat=True)) == [
        AuditAction.PAYOUT_PAID_UNDO,
        AuditAction.PAYOUT_PAID,
    ]
    # Nothing left to undo a second time.
    with pytest.raises(DomainError):
        undo.payout_paid_undo(actor=org.rep, payout=payout)


def test_undo_is_refused_after_the_window_and_for_another_user(org, payout):
    undo.payout_mark_paid_undoable(actor=org.rep, payout=payout)
    with pytest.raises(DomainError) as late:
        undo.payout_paid_undo(actor=org.rep, payout=payout, now=timezone.now() + LATER)
    assert late.value.code == undo.UNDO_TOO_LATE
    r = _client(org.lead1).post(reverse("aftercare_payout_paid_undo", args=[payout.pk]), headers=HTMX)
    assert "只有操作人本人可以撤销" in r.content.decode()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    # No undo button for the lead, nor for the rep once the window has passed.
    url = reverse("customer_aftercare_panel", args=[payout.contract.customer_id])
    assert "/paid/undo/" not in _client(org.lead1).get(url).content.decode()
    AuditEvent.objects.filter(action=AuditAction.PAYOUT_PAID).update(at=timezone.now() - LATER)
    assert "/paid/undo/" not in _client(org.rep).get(url).content.decode()


def test_payment_recorded_then_undone_by_its_recorder(org, payout):
    customer = payout.contract.customer
    c = _client(org.rep)
    r = c.post(
        reverse("customer_aftercare_action", args=[customer.pk, "payment"]),
        {"paid_on": timezone.localdate().isoformat(), "amount": "12000"},
        headers=HTMX,
    )
    assert "已记录收款" in r.content.decode() and "12,000 元" in r.content.decode()
    payment = Payment.objects.get(amount=12000)
    assert f"/aftercare/payments/{payment.pk}/undo/" in r.content.decode()
    r = c.post(reverse("aftercare_payment_undo", args=[payment.pk]), headers=HTMX)
    assert "已撤销" in r.content.decode()
    assert not Payment.objects.filter(pk=payment.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.PAYMENT_UNDO)
    assert event.actor == org.rep and event.detail["amount"] == "12000.00"


def test_payment_undo_refused_for_another_user_and_after_the_window(org, payout):
    customer = payout.contract.customer
    payment = pay(customer, 500, timezone.localdate())
    r = _client(org.lead1).post(reverse("aftercare_payment_undo", args=[payment.pk]), headers=HTMX)
    assert "只有操作人本人可以撤销" in r.content.decode()
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - LATER)
    r = _client(org.rep).post(reverse("aftercare_payment_undo", args=[payment.pk]), headers=HTMX)
    assert "不能再撤销" in r.content.decode()
    assert Payment.objects.filter(pk=payment.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.PAYMENT_UNDO).exists()


def test_undo_window_is_a_setting(org, payout, settings):
    settings.YIXIANG = {**settings.YIXIANG, "UNDO_MINUTES": 30}
    undo.payout_mark_paid_undoable(actor=org.rep, payout=payout)
    undo.payout_paid_undo(actor=org.rep, payout=payout, now=timezone.now() + dt.timedelta(minutes=20))
    payout.refresh_from_db()
    assert payout.status == Payout.Status.SCHEDULED


def test_payout_texts_on_the_care_screens_use_the_money_style(org, payout):
    from yixiang.aftercare.selectors import care_calendar

    big = Payout.objects.create(contract=payout.contract, due_date=payout.due_date, amount=Decimal("12500.50"))
    labels = [o.label for o in care_calendar(org.rep, payout.due_date, payout.due_date) if o.kind == "payout"]
    assert "返款 12,500.50 元" in labels
    services.payout_reminders_run(today=timezone.localdate())
    titles = set(CareTask.objects.filter(source_key=f"payout-notice:{big.pk}").values_list("title", flat=True))
    assert any("12,500.50 元" in t for t in titles), titles
