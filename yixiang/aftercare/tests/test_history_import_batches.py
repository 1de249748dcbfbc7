"""The set-based follow-up history import (issue 16) against the live path, row by row: several
customers in batches of 3 (so one customer's history spans batches and a batch spans customers),
a stored follow-up with a plan newer than part of the history, a release proposal a rise removes,
a planned visit a logged visit completes, a repeated row, a pool customer — the imported twin of
each customer ends exactly as its twin that had the same rows entered through ``followup_log``."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from yixiang.customers import importing
from yixiang.customers.models import Customer, CustomerChange, ImportJob
from yixiang.customers.tests.import_helpers import write_csv
from yixiang.errors import DomainError
from yixiang.pipeline import services as pipeline
from yixiang.pipeline.models import FollowUp, ReleaseProposal, StageChange, VisitPlan
from yixiang.pipeline.playbook import get_playbook

CHANNEL_TEXT = {"phone": "电话", "wechat": "微信", "visit": "拜访", "sms": "短信"}
STAGE_TEXT = {None: "", -1: "拒绝", 0: "0", 1: "1阶段", 2: "2", 3: "3阶段", 4: "4"}
NOTES = ["客户询问价格和优惠", "有兴趣，想了解怎么做", "不需要", "约见面", "", "老板出差，回来就签"]


def _rows(seed: int, today: dt.date, n: int = 8) -> list[dict]:
    rnd = random.Random(seed)  # noqa: S311 (test data)
    codes = list(get_playbook().signal_stage)
    rows = []
    for days in sorted(rnd.sample(range(2, 120), n), reverse=True):
        at = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time(9 + rnd.randrange(9))))
        rows.append(
            {
                "at": at,
                "channel": rnd.choice(["phone", "phone", "wechat", "visit", "sms"]),
                "effective": rnd.random() < 0.75,
                "stage": rnd.choice([None, None, -1, 0, 1, 2, 3, 4]),
                "signals": rnd.sample(codes, rnd.choice([0, 0, 1, 2])),
                "note": rnd.choice(NOTES),
            }
        )
    return rows


def _snapshot(customer: Customer) -> dict:
    customer.refresh_from_db()
    return {
        "customer": (
            customer.stage, customer.grade, customer.last_contact_at, customer.next_due_on, customer.stage_rose_at,
            customer.version,
        ),
        "follow_ups": list(
            FollowUp.objects.filter(customer=customer).order_by("at", "id").values_list(
                "at", "rep", "channel", "effective", "summary", "signals", "stage_before", "stage_after",
                "proposed_stage_signals", "proposed_stage_text", "text_keywords", "grade", "next_contact_on",
            )
        ),
        "stage_changes": list(
            StageChange.objects.filter(customer=customer).order_by("at", "id").values_list(
                "from_stage", "to_stage", "at", "by", "owner", "signals", "note", "mismatch", "follow_up__at"
            )
        ),
        "history": list(
            CustomerChange.objects.filter(customer=customer, action=CustomerChange.Action.UPDATE).order_by("id").values_list("actor", "action", "changes")
        ),
        "visit_plans": list(
            VisitPlan.objects.filter(customer=customer).order_by("at").values_list("at", "status", "follow_up__at")
        ),
        "release_proposal": ReleaseProposal.objects.filter(customer=customer).exists(),
    }  # fmt: skip


@pytest.mark.django_db
def test_batched_import_equals_the_live_path_row_by_row(org, tmp_path):
    today = timezone.localdate()
    owners = [org.rep, org.teammate, org.rep, org.other_team_rep, None]
    pairs = []
    for i, owner in enumerate(owners):
        twins = [org.customer(owner, f"客户{i}{t}", phone=f"1380013{i}{t}00") for t in "12"]
        pairs.append((twins, _rows(i, today)))
    stored_at = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=40), dt.time(10)))
    for twin in pairs[1][0]:  # a stored follow-up planning the next contact, amid the history to import
        pipeline.followup_log(
            actor=org.teammate, customer=twin, stage=1, at=stored_at, summary="已有记录",
            next_contact_on=today + dt.timedelta(days=3), history_import=True,
        )  # fmt: skip
    for twin in pairs[2][0]:  # a release proposal (a rise removes it) and a visit planned on a visit's day
        ReleaseProposal.objects.create(customer=twin, owner=org.rep, reason="no_rise")
        visit = (
            next(r for r in pairs[2][1] if r["channel"] == "visit")
            if any(r["channel"] == "visit" for r in pairs[2][1])
            else pairs[2][1][0]
        )
        visit["channel"] = "visit"
        VisitPlan.objects.create(
            customer=twin, rep=org.rep, at=visit["at"].replace(hour=8), place="客户公司", purpose="面谈"
        )
    pairs[2][1][1]["stage"], pairs[2][1][0]["stage"] = 3, 0  # a rise for sure

    # Live: every row through followup_log, oldest first across customers, as an administrator types it.
    ordered = sorted(((r["at"], i, r) for i, (_t, rows) in enumerate(pairs) for r in rows), key=lambda x: x[:2])
    live_errors = 0
    for _at, i, r in ordered:
        live = pairs[i][0][0]
        live.refresh_from_db()
        try:
            pipeline.followup_log(
                actor=live.owner or org.admin, customer=live, stage=r["stage"], at=r["at"], channel=r["channel"],
                effective=r["effective"], summary=r["note"], signals=r["signals"], history_import=True,
            )  # fmt: skip
        except DomainError:
            live_errors += 1

    # Imported: the same rows for the twins in one file (customer by customer, a row repeated), batches of 3.
    header = ["档案编号", "跟进时间", "跟进方式", "是否有效", "跟进后阶段", "信号", "跟进内容"]
    lines = [header]
    for twins, rows in pairs:
        for r in rows:
            lines.append(
                [
                    twins[1].archive_no, timezone.localtime(r["at"]).strftime("%Y-%m-%d %H:%M"),
                    CHANNEL_TEXT[r["channel"]], "是" if r["effective"] else "否", STAGE_TEXT[r["stage"]],
                    ",".join(r["signals"]), r["note"],
                ]
            )  # fmt: skip
    lines.append(lines[3])  # the same follow-up twice in the file: a duplicate
    path = write_csv(tmp_path / "history.csv", lines)
    with override_settings(YIXIANG={**settings.YIXIANG, "IMPORT_BATCH_SIZE": 3}), translation.override("en"):
        job = importing.import_file(path, actor=org.admin, owner=None, kind=ImportJob.Kind.FOLLOWUPS)

    assert job.status == ImportJob.Status.DONE, job.message
    assert live_errors == 8  # the pool customer's rows
    assert (job.created_count, job.skipped_count, job.error_count) == (32, 1, 8), job.errors
    pool_errors = importing.job_entries(job, "error")
    assert all("public pool" in e["reason"] for e in pool_errors)
    assert importing.job_entries(job, "duplicate")[0]["line"] == len(lines)
    for (live, imported), _history in pairs:
        assert _snapshot(imported) == _snapshot(live), live.name
    assert _snapshot(pairs[2][0][1])["visit_plans"][0][1] == VisitPlan.Status.DONE  # the comparison compared
    assert not _snapshot(pairs[2][0][1])["release_proposal"]
    assert _snapshot(pairs[1][0][1])["customer"][3] <= today + dt.timedelta(days=3)  # the stored plan counted


@pytest.mark.django_db
def test_a_batch_runs_the_same_queries_whatever_its_rows(org, tmp_path):
    """Set-based: 10 and 40 follow-ups of 5 customers take the same number of statements."""
    today = timezone.localdate()
    customers = [org.customer(org.rep, f"批量{i}", phone=f"1390013{i:04d}") for i in range(5)]

    def run(n: int, name: str) -> int:
        lines = [["电话", "跟进时间", "跟进后阶段", "跟进内容"]]
        for k in range(n):
            c = customers[k % 5]
            at = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=300 - k), dt.time(10)))
            lines.append([c.phone, f"{timezone.localtime(at):%Y-%m-%d %H:%M}", str(k % 5), f"{name}第{k}次"])
        path = write_csv(tmp_path / f"{name}.csv", lines)
        with CaptureQueriesContext(connection) as queries:
            job = importing.import_file(path, actor=org.admin, owner=None, kind=ImportJob.Kind.FOLLOWUPS)
        assert (job.created_count, job.error_count) == (n, 0), job.errors
        return len(queries)

    run(5, "预热")  # caches of a first import (the playbook, the users' roles)
    assert run(10, "少") == run(40, "多")
