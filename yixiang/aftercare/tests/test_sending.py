"""Campaign sending: real SMTP (aiosmtpd) and a local HTTP server playing Yunpian and the robots.
A crash in the middle, then a restart, sends nobody twice and loses nobody."""

import datetime as dt
import json
import urllib.parse
from decimal import Decimal

import pytest
from django.utils import timezone

from yixiang.aftercare import rules, services_campaigns
from yixiang.aftercare.messaging import EmailAdapter, RobotAdapter, YunpianSmsAdapter
from yixiang.aftercare.models import Campaign, CareTask, InboundReply, Message
from yixiang.customers.models import Customer
from yixiang.errors import Conflict, DomainError, ValidationFailed

from .factories import sign
from .providers import FakeProviders, SmtpSink, free_port


class SimulatedCrash(BaseException):
    """Stands for the worker process dying: not an Exception, so no handler in our code catches it."""


class CrashAfter:
    """Wraps an adapter and "kills the worker" on the nth send, before or after the provider got it."""

    def __init__(self, inner, nth: int, *, after_provider: bool):
        self.inner, self.nth, self.after_provider = inner, nth, after_provider
        self.channel = inner.channel
        self.calls = 0

    def send(self, message):
        self.calls += 1
        if self.calls == self.nth and not self.after_provider:
            raise SimulatedCrash
        result = self.inner.send(message)
        if self.calls == self.nth:
            raise SimulatedCrash
        return result

    def check(self, message):
        return self.inner.check(message)


@pytest.fixture
def providers(settings):
    with FakeProviders() as fp:
        settings.YIXIANG = {
            **settings.YIXIANG,
            "SMS_PROVIDER_URL": fp.url + "/v2/sms/single_send.json",
            "SMS_RECORD_URL": fp.url + "/v2/sms/get_record.json",
            "SMS_API_KEY": fp.api_key,
            "ROBOT_WEBHOOK_URL": fp.url + "/robot/send?key=abc",
        }
        yield fp


@pytest.fixture
def smtp(settings):
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield sink


def _customers(org, n, *, channel, owner=None):
    out = []
    for i in range(n):
        prefix = {"sms": "1380013", "email": "1370013"}.get(channel, "1360013")
        data = {"preferred_channel": channel, "phone": f"{prefix}{i:04d}", "email": f"c{i}@example.com"}
        out.append(sign(org.customer(owner or org.rep, f"客户{channel}{i}", **data)))
    return out


def _launch(org, template="{name}您好，我是{rep}。中秋快乐！", **segment):
    campaign = services_campaigns.campaign_create(
        actor=org.rep, name="中秋问候", template=template, subject="中秋问候", segment=segment or {"signed_only": True}
    )
    services_campaigns.campaign_launch(actor=org.rep, campaign=campaign)
    return campaign


def _later(minutes=11):
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_messages_rendered_per_customer_and_channel_by_preference(org, providers):
    _customers(org, 2, channel="sms")
    _customers(org, 1, channel="email")
    sign(org.customer(org.rep, "只见面", preferred_channel="visit"))  # no phone, no e-mail: skipped
    org.customer(org.outsider, "别组客户", preferred_channel="sms", phone="13900000000")
    campaign = _launch(org)
    msgs = {m.customer.name: m for m in Message.objects.filter(campaign=campaign)}
    assert set(msgs) == {"客户sms0", "客户sms1", "客户email0", "只见面"}
    assert msgs["客户sms0"].channel == "sms" and msgs["客户sms0"].address == "13800130000"
    assert msgs["客户sms0"].body == "客户sms0您好，我是rep。中秋快乐！"
    assert msgs["客户email0"].channel == "email" and msgs["客户email0"].address == "c0@example.com"
    assert msgs["只见面"].status == Message.Status.SKIPPED
    with pytest.raises(Conflict):
        services_campaigns.campaign_launch(actor=org.rep, campaign=campaign)
    assert Message.objects.filter(campaign=campaign).count() == 4


def test_bad_template_and_segment_are_refused(org):
    with pytest.raises(ValidationFailed) as exc:
        services_campaigns.campaign_create(actor=org.rep, name="x", template="{nmae}您好")
    assert "{nmae}" in exc.value.errors["template"][0]
    with pytest.raises(ValidationFailed):
        services_campaigns.campaign_create(actor=org.rep, name="x", template="hi", segment={"tiers": ["Z"]})
    with pytest.raises(ValidationFailed):
        services_campaigns.campaign_create(actor=org.rep, name="x", template="hi", segment={"color": "red"})
    assert not Campaign.objects.exists()
    other = services_campaigns.campaign_create(actor=org.rep, name="x", template="hi")
    with pytest.raises(DomainError):
        services_campaigns.campaign_launch(actor=org.teammate, campaign=other)


def test_segment_filters(org):
    a = sign(org.customer(org.rep, "A类杭州", province="浙江", city="杭州"))
    Customer.objects.filter(pk=a.pk).update(value_tier="A")
    org.customer(org.rep, "未签约杭州", city="杭州")
    b = sign(org.customer(org.rep, "B类", city="杭州"))
    Customer.objects.filter(pk=b.pk).update(value_tier="B")
    from yixiang.customers.services import customer_set_tags

    customer_set_tags(actor=org.rep, customer=b, tags=["VIP"])

    def names(seg):
        qs = services_campaigns.segment_customers(org.rep, services_campaigns.clean_segment(seg))
        return sorted(qs.values_list("name", flat=True))

    assert names({"tiers": ["A"]}) == ["A类杭州"]
    assert names({"cities": "杭州"}) == ["A类杭州", "B类", "未签约杭州"]
    assert names({"cities": ["杭州"], "signed_only": True}) == ["A类杭州", "B类"]
    assert names({"stages": [0]}) == ["未签约杭州"]
    assert names({"tags": "VIP"}) == ["B类"]
    assert names({"provinces": ["浙江"]}) == ["A类杭州"]


def test_sms_sent_once_each_with_provider_fee_as_cost(org, providers):
    _customers(org, 3, channel="sms")
    campaign = _launch(org)
    counts = services_campaigns.campaign_send(campaign.pk)
    assert counts["sent"] == 3
    assert sorted(s["mobile"] for s in providers.sms) == ["13800130000", "13800130001", "13800130002"]
    assert all(s["text"].startswith("【意向】客户sms") for s in providers.sms)
    sent = Message.objects.filter(campaign=campaign)
    assert all(m.status == "sent" and m.cost == Decimal("0.05") and m.provider_ref for m in sent)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert services_campaigns.campaign_send(campaign.pk)["sent"] == 0
    assert len(providers.sms) == 3


def test_provider_refusal_is_a_failure_and_an_unreachable_provider_a_retry(org, providers, settings):
    cs = _customers(org, 2, channel="sms")
    providers.bad_mobiles.add("13800130001")
    campaign = _launch(org)
    services_campaigns.campaign_send(campaign.pk)
    bad = Message.objects.get(customer=cs[1])
    assert bad.status == "failed" and "mobile" in bad.error
    # Provider unreachable: the message goes back to the queue (nothing was handed over).
    settings.YIXIANG = {**settings.YIXIANG, "SMS_PROVIDER_URL": f"http://127.0.0.1:{free_port()}/x"}
    c3 = sign(org.customer(org.rep, "新客户", phone="13800139999", preferred_channel="sms"))
    m = Message.objects.create(
        campaign=campaign, customer=c3, rep=org.rep, channel="sms", address="13800139999", body="x"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status="sending")
    assert services_campaigns.campaign_send(campaign.pk)["retry"] == 1
    m.refresh_from_db()
    assert m.status == "pending" and m.attempts == 1 and "unreachable" in m.error


def test_two_workers_never_send_the_same_row(org, providers):
    """Worker B starts while worker A is in the middle of its batch: the conditional UPDATE lets
    exactly one of them claim each row."""
    _customers(org, 6, channel="sms")
    campaign = _launch(org)
    first = Message.objects.filter(campaign=campaign).order_by("pk").first()
    assert services_campaigns.message_claim(first.pk) is True
    assert services_campaigns.message_claim(first.pk) is False
    Message.objects.filter(pk=first.pk).update(status="pending")

    inner = YunpianSmsAdapter()

    class Interleaved:
        channel = "sms"
        started_b = False

        def send(self, message):
            if not self.started_b:  # while A sends its first message, B runs the whole campaign
                self.started_b = True
                services_campaigns.campaign_send(campaign.pk, adapters={"sms": inner})
            return inner.send(message)

        def check(self, message):
            return inner.check(message)

    services_campaigns.campaign_send(campaign.pk, adapters={"sms": Interleaved()})
    assert sorted(providers.sms_uids()) == sorted(str(m.pk) for m in Message.objects.filter(campaign=campaign))
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 6


@pytest.mark.parametrize("after_provider", [True, False], ids=["crash-after-provider", "crash-before-provider"])
def test_sms_crash_in_the_middle_then_restart_sends_each_exactly_once(org, providers, after_provider):
    _customers(org, 5, channel="sms")
    campaign = _launch(org)
    crashing = CrashAfter(YunpianSmsAdapter(), 3, after_provider=after_provider)
    with pytest.raises(SimulatedCrash):
        services_campaigns.campaign_send(campaign.pk, adapters={"sms": crashing})
    states = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("status", flat=True))
    assert states == ["sent", "sent", "sending", "pending", "pending"]

    # Restart at once: the pending ones go; the one in doubt waits for the claim timeout.
    services_campaigns.campaign_send(campaign.pk)
    assert Message.objects.filter(campaign=campaign, status="sending").count() == 1
    # Later the recovery asks the provider (get_record by uid) whether the doubtful one went out.
    result = services_campaigns.messages_recover(now=_later())
    assert result == ({"recovered_sent": 1, "requeued": 0, "in_doubt": 0} if after_provider
                      else {"recovered_sent": 0, "requeued": 1, "in_doubt": 0})  # fmt: skip
    services_campaigns.campaign_send(campaign.pk)
    ids = sorted(str(m) for m in Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
    assert sorted(providers.sms_uids()) == ids  # each exactly once
    assert set(Message.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"sent"}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_email_crash_in_the_middle_against_real_smtp(org, smtp):
    _customers(org, 5, channel="email")
    campaign = _launch(org)
    crashing = CrashAfter(EmailAdapter(), 2, after_provider=True)
    with pytest.raises(SimulatedCrash):
        services_campaigns.campaign_send(campaign.pk, adapters={"email": crashing})
    assert len(smtp.messages) == 2
    services_campaigns.campaign_send(campaign.pk)  # the restart
    assert sorted(smtp.recipients()) == [f"c{i}@example.com" for i in range(5)]  # each exactly once
    # SMTP keeps no record to ask: the doubtful message is never resent blindly but handed to the rep.
    services_campaigns.messages_recover(now=_later())
    doubtful = Message.objects.get(campaign=campaign, status="unknown")
    task = CareTask.objects.get(kind=CareTask.Kind.MESSAGE_CHECK)
    assert task.customer_id == doubtful.customer_id and task.rep == org.rep
    services_campaigns.campaign_send(campaign.pk)
    assert len(smtp.messages) == 5
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 4
    # Content and headers as the customer sees them.
    first = smtp.messages[0]
    assert first["Subject"] == "中秋问候" and "中秋快乐" in first.get_content()
    assert first["Message-ID"].startswith("<yixiang-message-")
    # After checking with the customer, the rep may send it again.
    services_campaigns.message_resend(actor=org.rep, message=doubtful)
    services_campaigns.campaign_send(campaign.pk)
    assert len(smtp.messages) == 6 and Message.objects.get(pk=doubtful.pk).status == "sent"


def test_launch_enqueues_the_worker_on_commit(org, providers, django_capture_on_commit_callbacks):
    _customers(org, 2, channel="sms")
    campaign = services_campaigns.campaign_create(actor=org.rep, name="通知", template="{name}，好消息", segment={})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services_campaigns.campaign_launch(actor=org.rep, campaign=campaign)
    assert providers.sms == []  # nothing leaves before the launch is committed
    for cb in callbacks:
        cb()  # Huey runs inline under test (HUEY_IMMEDIATE)
    assert len(providers.sms) == 2


def test_wechat_customers_go_through_the_wecom_robot(org, providers):
    org.rep.phone = "13700000000"
    org.rep.save()
    sign(org.customer(org.rep, "微信客户", preferred_channel="wechat", wechat="wx_zhang"))
    campaign = _launch(org)
    services_campaigns.campaign_send(campaign.pk)
    assert len(providers.robot) == 1
    body = providers.robot[0]
    assert body["msgtype"] == "text" and "wx_zhang" in body["text"]["content"]
    assert "微信客户您好" in body["text"]["content"] and body["text"]["mentioned_mobile_list"] == ["13700000000"]
    assert Message.objects.get(campaign=campaign).status == "sent"


def test_dingtalk_robot_signs_its_url(org, providers, settings):
    settings.YIXIANG = {**settings.YIXIANG, "ROBOT_KIND": "dingtalk", "ROBOT_SECRET": "SECxyz",
                        "ROBOT_WEBHOOK_URL": providers.url + "/robot/send?access_token=t"}  # fmt: skip
    sign(org.customer(org.rep, "钉钉客户", preferred_channel="wechat", wechat="wx_li"))
    services_campaigns.campaign_send(_launch(org).pk)
    query = providers.robot_queries[0]
    ts = int(query["timestamp"][0])
    assert query["sign"][0] == rules.dingtalk_sign(ts, "SECxyz")
    assert providers.robot[0]["at"] == {"atMobiles": []}
    assert isinstance(RobotAdapter().payload(Message.objects.get()), dict)


def _push(client, payload, key="test-key"):
    payload = {**payload, "_sign": rules.yunpian_sign(payload, key)}
    return client.post("/hooks/sms/yunpian/", {"sms_reply": json.dumps(payload, ensure_ascii=False)})


def test_inbound_replies_and_non_replier_call_tasks(org, providers, client):
    cs = _customers(org, 3, channel="sms")
    skipped = sign(org.customer(org.rep, "无渠道", preferred_channel="visit"))
    campaign = _launch(org)
    services_campaigns.campaign_send(campaign.pk)
    reply = {"id": "r-1", "mobile": "13800130001", "text": "谢谢，中秋快乐", "reply_time": "2030-01-01 10:00:00",
             "extend": "", "base_extend": "8888"}  # fmt: skip
    # A forged push (wrong secret) is refused and changes nothing.
    bad = _push(client, reply, key="wrong")
    assert bad.status_code == 403 and not InboundReply.objects.exists()
    later = timezone.localtime() + dt.timedelta(minutes=1)
    ok = _push(client, {**reply, "reply_time": later.strftime("%Y-%m-%d %H:%M:%S")})
    assert ok.status_code == 200 and ok.content == b"SUCCESS"
    assert _push(client, reply).status_code == 200  # the provider retries: recorded once
    assert InboundReply.objects.count() == 1
    replied = Message.objects.get(customer=cs[1])
    assert replied.replied_at is not None and replied.reply_text == "谢谢，中秋快乐"
    # A reply logged by hand (seen on WeChat).
    services_campaigns.reply_log_by_hand(actor=org.rep, message=Message.objects.get(customer=cs[2]), text="收到")

    launched = Campaign.objects.get(pk=campaign.pk).launched_at
    assert services_campaigns.non_replier_tasks_run(now=launched + dt.timedelta(hours=11, minutes=59)) == 0
    assert services_campaigns.non_replier_tasks_run(now=launched + dt.timedelta(hours=12, minutes=1)) == 2
    tasks = CareTask.objects.filter(kind=CareTask.Kind.CAMPAIGN_CALL)
    assert {t.customer_id for t in tasks} == {cs[0].pk, skipped.pk}
    assert all(t.rep == org.rep and "中秋问候" in t.title for t in tasks)
    assert services_campaigns.non_replier_tasks_run(now=launched + dt.timedelta(days=2)) == 0


def test_inbound_webhook_refuses_without_a_configured_secret(client, settings, db):
    settings.YIXIANG = {**settings.YIXIANG, "SMS_API_KEY": ""}
    payload = {"id": "x", "mobile": "1", "text": "t", "_sign": "s"}
    r = client.post("/hooks/sms/yunpian/", {"sms_reply": urllib.parse.quote(json.dumps(payload))})
    assert r.status_code == 403
