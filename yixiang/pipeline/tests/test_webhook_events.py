"""Where the pipeline's webhook events arise: a follow-up, a stage change (by follow-up or signing),
a release (by the rep or the nightly recycling) and a claim each queue one delivery row per
subscribed endpoint, with the documented data, in the write's own transaction."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from yixiang.accounts import webhooks
from yixiang.accounts.models import WebhookDelivery, WebhookEvent
from yixiang.pipeline import pool, services
from yixiang.pipeline.tests.factories import days_ago, set_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(org):
    # Port 9 (discard) on loopback: nothing is sent in these tests, on-commit hooks do not run here.
    return webhooks.endpoint_create(actor=org.admin, url="http://127.0.0.1:9/hook", events=WebhookEvent.values)


def _events() -> list[tuple[str, dict]]:
    return [(row.event, json.loads(row.body)["data"]) for row in WebhookDelivery.objects.order_by("pk")]


def test_follow_up_with_a_stage_change_queues_both_events(org, hook):
    c = org.customer(org.rep, "李四")
    fu = services.followup_log(actor=org.rep, customer=c, stage=2, summary="约了下周面谈")
    (stage_event, stage), (fu_event, logged) = _events()
    assert stage_event == "customer.stage_changed" and fu_event == "followup.logged"
    assert (stage["from_stage"], stage["to_stage"], stage["follow_up_id"]) == (c.stage, 2, fu.pk)
    assert stage["customer"] == {"id": c.pk, "name": "李四", "stage": 2, "owner": {"id": org.rep.pk, "username": "rep"}}
    assert (logged["follow_up_id"], logged["stage_after"], logged["summary"]) == (fu.pk, 2, "约了下周面谈")
    # Same stage: a follow-up without a stage change.
    services.followup_log(actor=org.rep, customer=c, stage=2, summary="再次确认时间")
    assert [e for e, _d in _events()][2:] == ["followup.logged"]


def test_signing_queues_a_stage_change_and_customer_signed(org, hook):
    c = org.customer(org.rep, "签约客户")
    today = timezone.localdate()
    services.customer_mark_signed(actor=org.rep, customer=c, signed_on=today)
    assert [e for e, _d in _events()] == ["customer.stage_changed", "customer.signed"]
    signed = _events()[1][1]
    assert signed["signed_on"] == today.isoformat() and signed["customer"]["stage"] == 5


def test_release_and_claim(org, hook):
    c = org.customer(org.rep, "放掉的客户")
    pool.customer_release(actor=org.rep, customer=c, reason="no_rise")
    pool.claim_from_pool(actor=org.teammate, customer=c)
    (released_event, released), (claimed_event, claimed) = _events()
    assert released_event == "customer.released" and claimed_event == "customer.claimed"
    assert released["from_owner"] == {"id": org.rep.pk, "username": "rep"} and released["reason"] == "no_rise"
    assert released["customer"]["owner"] is None
    assert claimed["customer"]["owner"] == {"id": org.teammate.pk, "username": "teammate"}


def test_nightly_recycling_queues_a_release_per_customer(org, hook):
    gone = set_state(org.customer(org.rep, "逾期客户"), next_due_on=timezone.localdate() - dt.timedelta(days=31),
                     held_since=days_ago(10))  # fmt: skip
    pool.recycle_run()
    ((event, data),) = _events()
    assert event == "customer.released" and data["customer"]["id"] == gone.pk
    assert data["reason"] == "recycle:overdue" and data["by"] is None and data["from_owner"]["username"] == "rep"


def test_an_endpoint_hears_only_what_it_subscribed_to(org):
    webhooks.endpoint_create(actor=org.admin, url="http://127.0.0.1:9/x", events=[WebhookEvent.CUSTOMER_CLAIMED])
    c = org.customer(org.rep, "只听认领")
    services.followup_log(actor=org.rep, customer=c, stage=1, summary="电话")
    pool.customer_release(actor=org.rep, customer=c, reason="no_rise")
    assert _events() == []
    pool.claim_from_pool(actor=org.teammate, customer=c)
    assert [e for e, _d in _events()] == ["customer.claimed"]
