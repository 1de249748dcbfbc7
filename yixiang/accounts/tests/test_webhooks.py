"""Webhooks: signed delivery to a real local receiver, retries on a moved clock, 410, no double
send between racing workers, the admin-only API and its audit rows."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yixiang.accounts import webhooks
from yixiang.accounts.models import AuditEvent, WebhookDelivery, WebhookEndpoint, WebhookEvent
from yixiang.pipeline import services as pipeline_services

from .webhook_receiver import Receiver, verify

SECRET = "whsec-test-0123456789"
FOLLOWUP = WebhookEvent.FOLLOWUP_LOGGED


def _endpoint(org, url: str, events=(FOLLOWUP,), **kw) -> WebhookEndpoint:
    return webhooks.endpoint_create(actor=org.admin, url=url, events=list(events), secret=SECRET, **kw)


def _log_followup(org, capture, customer=None):
    customer = customer or org.customer(org.rep, "李四")
    with capture(execute=True):
        return pipeline_services.followup_log(actor=org.rep, customer=customer, stage=1, summary="初次电话，愿意了解")


# --------------------------------------------------------------------------- delivery


def test_follow_up_reaches_the_receiver_signed_with_the_endpoint_secret(org, django_capture_on_commit_callbacks):
    with Receiver() as rx:
        _endpoint(org, rx.url)
        fu = _log_followup(org, django_capture_on_commit_callbacks)
    assert len(rx.requests) == 1
    headers, body = rx.requests[0]
    assert verify(SECRET, headers, body)
    assert not verify("another-secret-123456", headers, body)
    assert not verify(SECRET, headers, body.replace(b"1", b"2"))  # a tampered body fails
    payload = json.loads(body)
    row = WebhookDelivery.objects.get()
    assert payload["id"] == str(row.uuid) == headers["X-Yixiang-Delivery"]
    assert payload["event"] == headers["X-Yixiang-Event"] == "followup.logged"
    assert payload["data"]["follow_up_id"] == fu.pk and payload["data"]["customer"]["name"] == "李四"
    occurred = dt.datetime.fromisoformat(payload["occurred_at"])
    assert occurred.utcoffset() == timezone.localtime().utcoffset()  # the site's offset, not UTC
    assert (row.status, row.attempts, row.response_status) == ("sent", 1, 200)


def test_a_receiver_answering_500_gets_it_again_after_the_back_off(org, django_capture_on_commit_callbacks):
    with Receiver(statuses=[500]) as rx:
        _endpoint(org, rx.url)
        _log_followup(org, django_capture_on_commit_callbacks)
        row = WebhookDelivery.objects.get()
        assert (row.status, row.attempts, row.response_status, row.error) == ("pending", 1, 500, "HTTP 500")
        first_try = row.claimed_at
        assert row.next_attempt_at == first_try + dt.timedelta(minutes=1)
        # Not yet due: the sweep leaves it alone.
        assert webhooks.retry_run(now=first_try + dt.timedelta(seconds=30)) == {"requeued": 0}
        assert len(rx.requests) == 1
        assert webhooks.retry_run(now=first_try + dt.timedelta(seconds=61))["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.response_status, row.error) == ("sent", 2, 200, "")
    assert [h["X-Yixiang-Delivery"] for h, _b in rx.requests] == [str(row.uuid)] * 2
    assert rx.requests[0][1] == rx.requests[1][1]  # the same bytes on every attempt
    assert all(verify(SECRET, h, b) for h, b in rx.requests)


def test_six_attempts_on_the_back_off_schedule_then_failed(org, django_capture_on_commit_callbacks):
    with Receiver(statuses=[503] * 10) as rx:
        _endpoint(org, rx.url)
        _log_followup(org, django_capture_on_commit_callbacks)
        row = WebhookDelivery.objects.get()
        waits = []
        while row.status == "pending":
            waits.append(row.next_attempt_at - row.claimed_at)
            webhooks.retry_run(now=row.next_attempt_at)
            row.refresh_from_db()
    assert [w.total_seconds() / 60 for w in waits] == [1, 5, 30, 120, 720]
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 6, None)
    assert len(rx.requests) == 6


def test_410_gone_switches_the_endpoint_off(org, django_capture_on_commit_callbacks):
    with Receiver(statuses=[410]) as rx:
        endpoint = _endpoint(org, rx.url)
        _log_followup(org, django_capture_on_commit_callbacks)
        _log_followup(org, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert len(rx.requests) == 1  # the second follow-up found no active endpoint
    assert WebhookDelivery.objects.get().status == "failed"
    assert AuditEvent.objects.filter(action="webhook.disabled", actor=None, target_id=str(endpoint.pk)).exists()


def test_unreachable_receiver_is_retried_not_lost(org, django_capture_on_commit_callbacks):
    with Receiver() as rx:
        url = rx.url
    _endpoint(org, url)  # the server is gone: connection refused
    _log_followup(org, django_capture_on_commit_callbacks)
    row = WebhookDelivery.objects.get()
    assert row.status == "pending" and row.attempts == 1 and "unreachable" in row.error


def test_a_worker_lost_mid_send_is_picked_up_by_the_sweep(org):
    with Receiver() as rx:
        endpoint = _endpoint(org, rx.url)
        (row,) = WebhookDelivery.objects.bulk_create([webhooks._row(endpoint.pk, FOLLOWUP, {"x": 1}, timezone.now())])
        now = timezone.now()
        WebhookDelivery.objects.filter(pk=row.pk).update(status="sending", attempts=1, claimed_at=now)
        assert webhooks.retry_run(now=now + dt.timedelta(minutes=5))["requeued"] == 0  # maybe still working
        counts = webhooks.retry_run(now=now + dt.timedelta(minutes=11))
    assert counts["requeued"] == 1 and counts["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)


def test_only_subscribed_active_endpoints_get_an_event_and_a_rollback_sends_nothing(org):
    wants = _endpoint(org, "http://127.0.0.1:9/a")
    _endpoint(org, "http://127.0.0.1:9/b", events=[WebhookEvent.CUSTOMER_SIGNED])
    _endpoint(org, "http://127.0.0.1:9/c", is_active=False)
    assert webhooks.emit(FOLLOWUP, {"n": 1}) == 1
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [wants.pk]
    customer = org.customer(org.rep, "回滚客户")
    with pytest.raises(ValueError):
        from django.db import transaction

        with transaction.atomic():
            pipeline_services.followup_log(actor=org.rep, customer=customer, stage=1, summary="会回滚")
            raise ValueError
    assert WebhookDelivery.objects.count() == 1


def test_emitting_with_no_endpoint_costs_one_query(org):
    with CaptureQueriesContext(connection) as ctx:
        assert webhooks.emit(FOLLOWUP, {"n": 1}) == 0
    assert len(ctx.captured_queries) == 1


# --------------------------------------------------------------------------- two workers


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_each_delivery_exactly_once():
    from yixiang.testing import make_org

    org = make_org()
    with Receiver(delay=0.02) as rx:
        endpoint = _endpoint(org, rx.url)
        now = timezone.now()
        rows = WebhookDelivery.objects.bulk_create(
            [webhooks._row(endpoint.pk, FOLLOWUP, {"n": i}, now) for i in range(12)]
        )
        ids = [r.pk for r in rows]
        barrier = threading.Barrier(2)
        results: list[dict | str] = []

        def worker(order: list[int]) -> None:
            try:
                barrier.wait(timeout=10)
                results.append(webhooks.deliver(order))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                results.append(repr(exc))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(o,)) for o in (ids, ids[::-1])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert all(isinstance(r, dict) for r in results), results
    sent = [json.loads(b)["id"] for _h, b in rx.requests]
    assert sorted(sent) == sorted(str(r.uuid) for r in rows)  # every one, none twice
    assert sum(r.get("sent", 0) for r in results) == 12
    assert sum(r.get("skipped", 0) for r in results) == 12
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}


# --------------------------------------------------------------------------- API


BASE = "/api/v1/webhooks"


def test_admin_manages_webhooks_and_every_write_is_audited(org, api_as):
    admin = api_as(org.admin)
    r = admin.post(BASE, {"url": "https://hooks.example.com/yx", "events": ["customer.signed", "payout.overdue"]})
    assert r.status_code == 201, r.content
    created = r.json()
    assert len(created["secret"]) >= 16 and created["is_active"]
    hook_id = created["id"]
    listed = admin.get(BASE).json()
    assert [h["id"] for h in listed] == [hook_id] and "secret" not in listed[0]
    r = admin.patch(f"{BASE}/{hook_id}", {"events": ["followup.logged"], "secret": "a-new-secret-of-16+"})
    assert r.status_code == 200 and r.json()["events"] == ["followup.logged"]
    assert WebhookEndpoint.objects.get(pk=hook_id).secret == "a-new-secret-of-16+"
    update = AuditEvent.objects.get(action="webhook.update")
    assert update.detail["changes"]["secret"] == "changed"  # the audit never holds the secret
    assert admin.get(f"{BASE}/{hook_id}").json()["events"] == ["followup.logged"]
    assert admin.delete(f"{BASE}/{hook_id}").status_code == 204
    assert admin.get(f"{BASE}/{hook_id}").status_code == 404
    actions = set(AuditEvent.objects.filter(actor=org.admin).values_list("action", flat=True))
    assert {"webhook.create", "webhook.update", "webhook.delete"} <= actions


def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(org, api_as):
    admin = api_as(org.admin)
    r = admin.post(BASE, {"url": "ftp://example.com/x", "events": ["customer.signed"]})
    assert r.status_code == 400 and r.json()["field"] == "url"
    r = admin.post(BASE, {"url": "https://example.com/x", "events": ["customer.signed"], "secret": "short"})
    assert r.status_code == 400 and r.json()["field"] == "secret"
    assert admin.post(BASE, {"url": "https://example.com/x", "events": ["nope"]}).status_code == 422
    assert admin.post(BASE, {"url": "https://example.com/x", "events": []}).status_code == 422
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("who", ["rep", "lead1", "director"])
def test_no_one_but_an_administrator_gets_in(org, api_as, who):
    endpoint = _endpoint(org, "https://example.com/hook")
    client = api_as(getattr(org, who))
    calls = [
        client.get(BASE), client.post(BASE, {"url": "https://x.example.com", "events": ["customer.signed"]}),
        client.get(f"{BASE}/{endpoint.pk}"), client.patch(f"{BASE}/{endpoint.pk}", {"is_active": False}),
        client.delete(f"{BASE}/{endpoint.pk}"), client.get(f"{BASE}/{endpoint.pk}/deliveries"),
        client.post(f"{BASE}/{endpoint.pk}/test"),
    ]  # fmt: skip
    assert [c.status_code for c in calls] == [403] * 7
    endpoint.refresh_from_db()
    assert endpoint.is_active and WebhookEndpoint.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_test_event_is_delivered_and_shows_in_the_paged_log(org, api_as, django_capture_on_commit_callbacks):
    admin = api_as(org.admin)
    with Receiver() as rx:
        endpoint = _endpoint(org, rx.url)
        with django_capture_on_commit_callbacks(execute=True):
            r = admin.post(f"{BASE}/{endpoint.pk}/test")
        assert r.status_code == 202 and r.json()["event"] == "webhook.test"
        for i in range(3):
            webhooks.emit(FOLLOWUP, {"n": i})
    headers, body = rx.requests[0]
    assert headers["X-Yixiang-Event"] == "webhook.test" and verify(SECRET, headers, body)
    page = admin.get(f"{BASE}/{endpoint.pk}/deliveries", page_size=2).json()
    assert page["count"] == 4 and len(page["items"]) == 2 and page["items"][0]["status"] == "pending"
    page2 = admin.get(f"{BASE}/{endpoint.pk}/deliveries", page_size=2, page=2).json()
    assert page2["items"][-1] == {**page2["items"][-1], "event": "webhook.test", "status": "sent", "attempts": 1}
    assert admin.get(f"{BASE}/{endpoint.pk}/deliveries", status="sent").json()["count"] == 1
    assert AuditEvent.objects.filter(action="webhook.test", actor=org.admin).exists()
    admin.patch(f"{BASE}/{endpoint.pk}", {"is_active": False})
    r = admin.post(f"{BASE}/{endpoint.pk}/test")
    assert r.status_code == 409 and r.json()["code"] == "inactive"


def test_the_admin_site_shows_the_delivery_log_read_only_and_not_to_a_rep(org, client):
    endpoint = _endpoint(org, "https://example.com/hook")
    webhooks.emit(FOLLOWUP, {"n": 1})
    client.force_login(org.admin)
    page = client.get("/admin/accounts/webhookdelivery/")
    assert page.status_code == 200 and "followup.logged" in page.content.decode()
    row = WebhookDelivery.objects.get()
    assert client.post(f"/admin/accounts/webhookdelivery/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SECRET not in client.get(f"/admin/accounts/webhookendpoint/{endpoint.pk}/change/").content.decode()
    client.force_login(org.rep)
    assert client.get("/admin/accounts/webhookdelivery/").status_code == 302  # to the admin login
