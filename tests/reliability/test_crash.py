"""Crash safety: the real Huey worker (`manage.py run_huey`, SQLite Huey storage in a temp data
folder, the test database) is killed with SIGKILL in the middle of its work, then started again.

* A campaign send, against a real SMTP server and a local HTTP server playing the SMS provider,
  each of which takes one message and holds its answer: the worker dies once while an SMS is in
  the provider's hands and once while an e-mail is. Nobody gets a message twice, nobody is lost:
  the SMS is found at the provider and marked sent, the e-mail (SMTP cannot be asked) is marked
  "in doubt" with a task for the rep to check.
* The nightly recycling job over many customers, stalled inside its third batch transaction by
  the fault-injection app (tests/reliability/faults) and killed there: every customer is either
  still with its rep or in the pool with exactly one owner-change row; the restart does the rest.

The restart enqueues what the periodic schedule would (campaigns_sweep, recycle_daily)."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.utils import timezone

from yixiang.accounts.models import Role
from yixiang.aftercare import services_campaigns as aftercare_campaigns
from yixiang.aftercare.models import Campaign, CareTask, Message
from yixiang.aftercare.tests.providers import FakeProviders, SmtpSink
from yixiang.customers.models import Customer, CustomerChange
from yixiang.customers.services import allocate_archive_numbers
from yixiang.pipeline.models import OwnerChange
from yixiang.testing import make_org, make_user

from .servers import ROOT, stop, subprocess_env

STALL_SECONDS = 30  # a held message waits this long at most (the test kills the worker meanwhile)


class SlowProviders(FakeProviders):
    """The SMS provider: takes the ``hold``-th text, then keeps its answer until released (that
    text is "in the provider's hands" while the worker waits)."""

    def __init__(self, hold: int) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()
        outer, base = self, self.server.RequestHandlerClass

        class Slow(base):
            def _reply(self, status, payload):
                if self.path.startswith("/v2/sms/single_send.json") and len(outer.sms) == hold:
                    outer.holding.set()
                    outer.release.wait(STALL_SECONDS)
                super()._reply(status, payload)

        self.server.RequestHandlerClass = Slow

    def __exit__(self, *exc) -> None:
        self.release.set()
        super().__exit__(*exc)


class SlowSmtp(SmtpSink):
    """A real SMTP server that keeps the ``hold``-th e-mail, then holds its 250 until released."""

    def __init__(self, hold: int) -> None:
        super().__init__()
        self.hold = hold
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == self.hold:
            self.holding.set()
            deadline = time.monotonic() + STALL_SECONDS
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return answer

    def __exit__(self, *exc) -> None:
        self.release.set()
        super().__exit__(*exc)

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


def manage(env: dict, code: str) -> None:
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, timeout=120)


def start_worker(env: dict) -> subprocess.Popen:
    cmd = [sys.executable, "manage.py", "run_huey", "--no-periodic", "--workers", "1", "--delay", "0.1",
           "--max-delay", "0.5", "--quiet"]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def wait_until(predicate, *, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the worker exited ({proc.returncode}) before {what}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def kill(proc: subprocess.Popen) -> None:
    proc.kill()  # SIGKILL: no handler, no cleanup, no commit of the open transaction
    proc.wait(timeout=10)


# --- Campaign send ------------------------------------------------------------------------------


def test_worker_killed_mid_campaign_sends_nobody_twice_and_loses_nobody(transactional_db, tmp_path):
    org = make_org()
    for i in range(24):
        channel = "sms" if i % 2 == 0 else "email"
        org.customer(org.rep, f"客户{i}", phone=f"1380013{i:04d}", email=f"c{i}@example.com", preferred_channel=channel)
    campaign = aftercare_campaigns.campaign_create(
        actor=org.rep, name="中秋问候", template="{name}您好，中秋快乐！", subject="中秋问候"
    )
    # The 3rd SMS and the 7th e-mail are held by their provider when the worker is killed.
    with SlowProviders(hold=3) as sms, SlowSmtp(hold=7) as smtp:
        env = subprocess_env(
            tmp_path / "data",
            overrides={
                "SMS_PROVIDER_URL": sms.url + "/v2/sms/single_send.json",
                "SMS_RECORD_URL": sms.url + "/v2/sms/get_record.json",
                "SMS_API_KEY": sms.api_key,
                # Recover claims at once after a restart, not ten minutes later.
                "SEND_CLAIM_TIMEOUT_MINUTES": 0,
                "SEND_BATCH_SIZE": 5,
            },
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp.port),
        )
        # The launch as the app does it: the rows, then the send task on commit (into Huey's queue).
        manage(
            env,
            "from yixiang.aftercare.models import Campaign; from yixiang.aftercare import services_campaigns as s; "
            f"c = Campaign.objects.get(pk={campaign.pk}); s.campaign_launch(actor=c.created_by, campaign=c)",
        )
        messages = Message.objects.filter(campaign=campaign)
        assert messages.count() == 24

        worker = start_worker(env)
        wait_until(sms.holding.is_set, timeout=60, what="an SMS in the provider's hands", proc=worker)
        kill(worker)
        sms.release.set()
        states = Counter(messages.values_list("status", flat=True))
        assert states[Message.Status.SENDING] == 1, states  # the one the provider holds
        assert states[Message.Status.SENT] >= 4 and states[Message.Status.PENDING] >= 10, states

        manage(env, "from yixiang.aftercare.tasks import campaigns_sweep; campaigns_sweep()")
        worker = start_worker(env)
        wait_until(smtp.holding.is_set, timeout=60, what="an e-mail in the server's hands", proc=worker)
        kill(worker)
        smtp.release.set()
        states = Counter(messages.values_list("status", flat=True))
        assert states[Message.Status.SENDING] == 1 and states[Message.Status.PENDING] >= 2, states

        manage(env, "from yixiang.aftercare.tasks import campaigns_sweep; campaigns_sweep()")
        worker = start_worker(env)
        try:
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT,
                timeout=60,
                what="the campaign to finish",
                proc=worker,
            )
        finally:
            stop(worker)

        by_status = {s: set(messages.filter(status=s).values_list("pk", flat=True)) for s in Message.Status.values}
        sms_ids = set(messages.filter(channel="sms").values_list("pk", flat=True))
        email_ids = set(messages.filter(channel="email").values_list("pk", flat=True))
        assert len(sms_ids) == len(email_ids) == 12

        # SMS: each text reached the provider exactly once, and all are marked sent (the one in
        # flight at the kill was found with get_record.json, not sent again).
        uids = Counter(int(u) for u in sms.sms_uids())
        assert set(uids) == sms_ids and set(uids.values()) == {1}, uids
        assert sms_ids <= by_status[Message.Status.SENT]

        # E-mail: nobody got one twice; the one in flight at the kill is "in doubt" with a task for
        # the rep (it did arrive once), every other one was received and marked sent.
        got = Counter(int(mid.split("-")[-1].split("@")[0]) for mid in smtp.message_ids())
        assert set(got.values()) == {1}, got
        doubt = by_status[Message.Status.UNKNOWN]
        assert len(doubt) == 1 and doubt <= email_ids
        assert set(got) == email_ids
        assert email_ids - doubt <= by_status[Message.Status.SENT]
        (doubtful,) = doubt
        task = CareTask.objects.get(kind=CareTask.Kind.MESSAGE_CHECK)
        assert (task.source_key, task.rep_id) == (f"message-check:{doubtful}", org.rep.pk)
        assert not by_status[Message.Status.PENDING] and not by_status[Message.Status.SENDING]


# --- Recycling job ------------------------------------------------------------------------------

RECYCLE_BATCH = 40


def _tracked(org, reps, n: int, *, overdue: bool) -> list[int]:
    """n tracked customers spread over the reps, overdue by 40 days or due today (set-based)."""
    today = timezone.localdate()
    due = today - dt.timedelta(days=40) if overdue else today
    held = timezone.now() - dt.timedelta(days=60)
    numbers = allocate_archive_numbers(n)
    rows = [
        Customer(
            archive_no=numbers[i],
            name=f"{'逾期' if overdue else '正常'}{i}",
            owner=reps[i % len(reps)],
            stage=i % 5,
            held_since=held,
            next_due_on=due,
        )
        for i in range(n)
    ]
    return [c.pk for c in Customer.objects.bulk_create(rows)]


def _consistent(pks: list[int]) -> tuple[int, int]:
    """(in pool, still owned): each customer is wholly moved or wholly not."""
    moved = kept = 0
    changes = Counter(
        OwnerChange.objects.filter(customer_id__in=pks, reason=OwnerChange.Reason.RECYCLE).values_list(
            "customer_id", flat=True
        )
    )
    # The OwnerChange is the one record of an owner change: no archive "owner" row beside it.
    assert not CustomerChange.objects.filter(customer_id__in=pks, action=CustomerChange.Action.OWNER).exists()
    for pk, owner_id, held_since, next_due, version in Customer.objects.filter(pk__in=pks).values_list(
        "pk", "owner_id", "held_since", "next_due_on", "version"
    ):
        if owner_id is None:
            assert changes[pk] == 1, pk
            assert held_since is None and next_due is None and version == 2, pk
            moved += 1
        else:
            assert changes[pk] == 0, pk
            assert held_since is not None and next_due is not None and version == 1, pk
            kept += 1
    return moved, kept


def test_worker_killed_mid_recycling_moves_no_customer_by_half(transactional_db, tmp_path):
    org = make_org()
    reps = [org.rep, org.teammate, org.other_team_rep, make_user("rep9", Role.REP, team=org.n2)]
    overdue = _tracked(org, reps, 10 * RECYCLE_BATCH, overdue=True)
    fine = _tracked(org, reps, 50, overdue=False)
    Customer.objects.filter(pk__in=overdue + fine).update(version=1)
    enqueue = "from yixiang.pipeline.tasks import recycle_daily; recycle_daily()"
    # Stage 3-4 customers would go to their lead as proposals: this test is about batches, so off.
    overrides = {"RECYCLE_BATCH_SIZE": RECYCLE_BATCH, "RECYCLE_HOT_NEEDS_LEAD": False}
    fault_log = Path(tmp_path / "faults.log")
    slow = subprocess_env(
        tmp_path / "data",
        overrides=overrides,
        # Stall in the third batch, after its owner-change rows, before its history rows and commit.
        YIXIANG_FAULTS='INSERT INTO "pipeline_ownerchange"',
        YIXIANG_FAULTS_LOG=str(fault_log),
        YIXIANG_FAULTS_AT="3",
    )
    manage(slow, enqueue)
    worker = start_worker(slow)
    batches = lambda: len(fault_log.read_text().splitlines()) if fault_log.exists() else 0  # noqa: E731
    wait_until(lambda: batches() >= 3, timeout=60, what="the third recycling batch", proc=worker)
    kill(worker)  # inside the third batch: its customers updated, not committed

    moved, kept = _consistent(overdue)
    assert moved == 2 * RECYCLE_BATCH, (moved, kept)  # two batches committed, the third rolled back
    assert _consistent(fine) == (0, 50)

    env = subprocess_env(tmp_path / "data", overrides=overrides)
    manage(env, enqueue)
    worker = start_worker(env)
    try:
        wait_until(
            lambda: not Customer.objects.filter(pk__in=overdue, owner__isnull=False).exists(),
            timeout=60,
            what="the recycling to finish",
            proc=worker,
        )
        time.sleep(0.3)  # let the last batch's transaction end before counting rows
    finally:
        stop(worker)
    assert _consistent(overdue) == (len(overdue), 0)
    assert _consistent(fine) == (0, 50)
