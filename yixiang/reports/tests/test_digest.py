"""The morning digest against real local servers: SMTP (aiosmtpd) and an HTTP server playing the
WeCom and DingTalk group robots. At most one digest per user, day and channel, whatever happens."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from yixiang.accounts.models import User
from yixiang.aftercare.models import CareTask, Contract, Payout
from yixiang.aftercare.tests.providers import SmtpSink, free_port
from yixiang.customers.models import Customer
from yixiang.reports import services, tasks
from yixiang.reports.models import DigestDelivery, DigestPreference
from yixiang.reports.tests.data import TZ
from yixiang.reports.tests.test_views import client_for

DAY = dt.date(2025, 3, 3)  # a Monday
BEFORE = dt.datetime(2025, 3, 3, 8, 29, tzinfo=TZ)
AFTER = dt.datetime(2025, 3, 3, 8, 31, tzinfo=TZ)


class Robot:
    """A group-robot webhook on a local port. ``replies`` are played in order (then "ok"):
    a dict is the JSON answer, a number is seconds to stall before answering."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: list = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _q, query = self.path.partition("?")
                outer.requests.append(
                    {"path": path, "query": urllib.parse.parse_qs(query), "json": json.loads(raw.decode("utf-8"))}
                )
                reply = outer.replies.pop(0) if outer.replies else {"errcode": 0, "errmsg": "ok"}
                if isinstance(reply, int | float):
                    time.sleep(reply)
                    reply = {"errcode": 0, "errmsg": "ok"}
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with SmtpSink() as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        yield sink


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """digest_run as the worker runs it: the sends it enqueues on commit are carried out."""

    def _run(now: dt.datetime) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return services.digest_run(now=now)

    return _run


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


def agenda(org) -> dict[str, Customer]:
    """The rep's day (3 March 2025): 甲 overdue since 28 Feb, 乙 due today, 丙 due next week; a
    birthday care task; a payout in 3 days; a contract ending in 20 days."""
    rep = org.rep
    User.objects.filter(pk=rep.pk).update(email="rep@example.com")
    rep.refresh_from_db()
    out = {}
    for name, due, stage in (("甲", dt.date(2025, 2, 28), 3), ("乙", DAY, 1), ("丙", DAY + dt.timedelta(days=7), 0)):
        c = org.customer(rep, name)
        Customer.objects.filter(pk=c.pk).update(
            next_due_on=due, stage=stage, last_contact_at=dt.datetime(2025, 2, 20, tzinfo=TZ)
        )
        out[name] = c
    CareTask.objects.create(
        kind="birthday", customer=out["乙"], rep=rep, due_on=DAY, title="乙 生日", source_key="bd-1"
    )
    contract = Contract.objects.create(
        customer=out["甲"],
        name="年度推广",
        number="HT-9",
        start_date=dt.date(2024, 3, 23),
        end_date=DAY + dt.timedelta(days=20),
        amount=Decimal(50000),
    )
    Payout.objects.create(contract=contract, due_date=DAY + dt.timedelta(days=3), amount=Decimal(1200))
    return out


def text_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db
def test_email_digest_at_the_users_time_and_only_once(org, smtp, run):
    agenda(org)
    assert run(BEFORE) == 0
    assert smtp.messages == []
    run(AFTER)
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert msg["To"] == "rep@example.com"
    body = text_of(msg)
    assert "甲" in body and "乙" in body and "丙" not in body  # 丙 is due next week
    assert "乙 生日" in body  # the care event
    assert "HT-9" in body and "1,200" in body  # payout in 3 days, renewal in 20
    assert msg.get_body(preferencelist=("html",)) is not None
    # The next runs of the day send nothing more.
    run(AFTER + dt.timedelta(minutes=5))
    run(AFTER + dt.timedelta(hours=3))
    assert len(smtp.messages) == 1
    row = DigestDelivery.objects.get(user=org.rep)
    assert (row.status, row.channel, row.date, row.attempts) == ("sent", "email", DAY, 1)
    assert row.items == 5  # 甲, 乙, the birthday, the payout, the renewal
    # The teammate (a rep too) has nothing due: nothing is sent, and that is recorded.
    assert DigestDelivery.objects.get(user=org.teammate).status == "skipped"
    # Leads and directors get no digest unless they ask for one.
    assert not DigestDelivery.objects.filter(user__in=[org.lead1, org.director]).exists()


@pytest.mark.django_db
def test_per_user_time_and_opt_out(org, smtp, run):
    agenda(org)
    DigestPreference.objects.create(user=org.rep, send_at=dt.time(7, 0), channels=["email"])
    run(dt.datetime(2025, 3, 3, 7, 1, tzinfo=TZ))
    assert len(smtp.messages) == 1
    DigestPreference.objects.filter(user=org.rep).update(enabled=False)
    run(dt.datetime(2025, 3, 4, 9, 0, tzinfo=TZ))
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_wecom_robot_gets_markdown(org, robot, run):
    agenda(org)
    DigestPreference.objects.create(
        user=org.rep, channels=["wecom"], webhook_url=f"{robot.url}/cgi-bin/webhook/send?key=k-123"
    )
    run(AFTER)
    [req] = robot.requests
    assert req["path"] == "/cgi-bin/webhook/send" and req["query"] == {"key": ["k-123"]}
    assert req["json"]["msgtype"] == "markdown"
    content = req["json"]["markdown"]["content"]
    assert content.startswith("### ") and "甲" in content and "乙 生日" in content
    assert DigestDelivery.objects.get(user=org.rep, channel="wecom").status == "sent"


@pytest.mark.django_db
def test_dingtalk_robot_is_signed(org, robot, run):
    agenda(org)
    secret = "SEC-test-secret"
    DigestPreference.objects.create(
        user=org.rep,
        channels=["dingtalk"],
        webhook_url=f"{robot.url}/robot/send?access_token=t-1",
        webhook_secret=secret,
    )
    run(AFTER)
    [req] = robot.requests
    q = req["query"]
    assert q["access_token"] == ["t-1"]
    ts = q["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    assert q["sign"] == [expected]
    assert req["json"]["msgtype"] == "markdown" and "2025-03-03" in req["json"]["markdown"]["title"]


@pytest.mark.django_db
def test_email_and_robot_both(org, smtp, robot, run):
    agenda(org)
    DigestPreference.objects.create(user=org.rep, channels=["email", "wecom"], webhook_url=f"{robot.url}/hook?key=x")
    run(AFTER)
    assert len(smtp.messages) == 1 and len(robot.requests) == 1


@pytest.mark.django_db
def test_a_refused_send_is_retried_then_given_up(org, robot, settings, run):
    agenda(org)
    settings.YIXIANG = {**settings.YIXIANG, "DIGEST_MAX_ATTEMPTS": 2}
    DigestPreference.objects.create(user=org.rep, channels=["wecom"], webhook_url=f"{robot.url}/hook?key=x")
    robot.replies = [{"errcode": 93000, "errmsg": "invalid webhook url"}]
    run(AFTER)
    row = DigestDelivery.objects.get(user=org.rep)
    assert (row.status, row.attempts) == ("failed", 1) and "93000" in row.error
    run(AFTER + dt.timedelta(minutes=5))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(robot.requests) == 2
    # A robot that cannot be reached at all: tried up to the limit, then given up.
    DigestPreference.objects.filter(user=org.rep).update(webhook_url=f"http://127.0.0.1:{free_port()}/hook")
    run(AFTER + dt.timedelta(days=1))
    run(AFTER + dt.timedelta(days=1, minutes=5))
    run(AFTER + dt.timedelta(days=1, minutes=10))
    row = DigestDelivery.objects.get(user=org.rep, date=DAY + dt.timedelta(days=1))
    assert (row.status, row.attempts) == ("gave_up", 2)


@pytest.mark.django_db
def test_a_send_in_doubt_is_never_repeated(org, robot, settings, run):
    agenda(org)
    settings.YIXIANG = {**settings.YIXIANG, "DIGEST_HTTP_TIMEOUT_SECONDS": 0.5}
    DigestPreference.objects.create(user=org.rep, channels=["wecom"], webhook_url=f"{robot.url}/hook?key=x")
    robot.replies = [2]  # the robot stalls past our timeout: did the group get it? We cannot tell.
    run(AFTER)
    row = DigestDelivery.objects.get(user=org.rep)
    assert row.status == "unknown"
    run(AFTER + dt.timedelta(minutes=5))
    assert len(robot.requests) == 1


@pytest.mark.django_db
def test_a_crash_after_sending_never_sends_twice(org, smtp, monkeypatch, run):
    agenda(org)
    real_finish = services._finish

    def crash(delivery_id, status, **kw):
        if status == "sent":
            raise SystemExit("worker killed")  # the mail is out, the row is not marked yet
        return real_finish(delivery_id, status, **kw)

    monkeypatch.setattr(services, "_finish", crash)
    with pytest.raises(SystemExit):
        run(AFTER)
    monkeypatch.setattr(services, "_finish", real_finish)
    run(AFTER + dt.timedelta(minutes=5))
    run(AFTER + dt.timedelta(minutes=10))
    assert len(smtp.messages) == 1
    assert DigestDelivery.objects.get(user=org.rep).status == "sending"  # left for a human to look at


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_digest(org, smtp):
    agenda(org)
    from yixiang.reports.services import digest_plan

    digest_plan(now=AFTER)
    pk = DigestDelivery.objects.get(user=org.rep).pk
    results: list[str] = []
    barrier = threading.Barrier(4)

    def worker():
        from django.db import connection

        try:
            barrier.wait()
            results.append(services.digest_send(pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == ["sent", "taken", "taken", "taken"]
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_the_worker_task_runs_the_digest(org, smtp, django_capture_on_commit_callbacks):
    agenda(org)
    DigestPreference.objects.create(user=org.rep, send_at=dt.time(0, 0), channels=["email"])
    # Today's digest for a user whose time (00:00) has come, through the Huey periodic task
    # (tasks run inline under test). Today's agenda has 甲 and 乙 overdue.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.digest_tick.call_local()
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_digest_settings_page(org):
    c = client_for(org.rep)
    url = reverse("reports_subscriptions")
    assert c.get(url).status_code == 200
    # A robot needs an address; nothing is saved when the form is refused.
    r = c.post(url, {"enabled": "on", "send_at": "07:45", "channels": ["wecom"], "webhook_url": ""})
    assert r.status_code == 200 and "webhook_url" in r.context["form"].errors
    assert not DigestPreference.objects.filter(user=org.rep).exists()
    r = c.post(
        url,
        {"enabled": "on", "send_at": "07:45", "channels": ["wecom", "dingtalk"], "webhook_url": "https://x.example/h"},
    )
    assert "channels" in r.context["form"].errors
    r = c.post(
        url,
        {"enabled": "on", "send_at": "07:45", "channels": ["wecom"], "webhook_url": "https://qyapi.example/send?key=1"},
    )
    assert r.status_code == 302
    pref = DigestPreference.objects.get(user=org.rep)
    assert (pref.send_at, pref.channels, pref.webhook_url) == (
        dt.time(7, 45),
        ["wecom"],
        "https://qyapi.example/send?key=1",
    )
    # The webhook address is encrypted at rest.
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT webhook_url FROM reports_digestpreference WHERE id = %s", [pref.pk])
        assert "qyapi" not in cur.fetchone()[0]
