"""Migration import ("bring your history", issue 16): a history imported from files comes out exactly
as the same history entered through the services — stage changes, due dates, the agenda, judgment
accuracy and activity, contracts and money — and a re-import adds nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from yixiang.aftercare import services_contracts as aftercare
from yixiang.aftercare.models import Contract, Payment, Payout
from yixiang.customers import importing
from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.stages import Stage
from yixiang.customers.tests.import_helpers import write_csv
from yixiang.errors import DomainError
from yixiang.pipeline import selectors as pipeline_selectors
from yixiang.pipeline import services as pipeline
from yixiang.pipeline.models import FollowUp, StageChange
from yixiang.pipeline.playbook import get_playbook
from yixiang.reports.activity_figures import activity
from yixiang.reports.selectors import ReportFilters


def _history(today: dt.date) -> list[dict]:
    codes = list(get_playbook().signal_stage)
    return [
        {"days": 50, "hour": 9, "channel": "phone", "effective": True, "stage": 0, "signals": [], "note": "第一次电话"},
        {"days": 41, "hour": 15, "channel": "wechat", "effective": False, "stage": None, "signals": [], "note": ""},
        {"days": 33, "hour": 10, "channel": "phone", "effective": True, "stage": 2, "signals": codes[:1], "note": "有兴趣"},
        {"days": 20, "hour": 11, "channel": "visit", "effective": True, "stage": 1, "signals": [], "note": "犹豫了"},
        {"days": 12, "hour": 16, "channel": "phone", "effective": True, "stage": 3, "signals": codes[1:3], "note": "约见面"},
    ]  # fmt: skip


def _at(today: dt.date, days: int, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time(hour, 0)))


def _enter_live(org, customer: Customer, rep, today: dt.date) -> None:
    for h in _history(today):
        pipeline.followup_log(
            actor=rep,
            customer=customer,
            stage=h["stage"],
            at=_at(today, h["days"], h["hour"]),
            channel=h["channel"],
            effective=h["effective"],
            summary=h["note"],
            signals=h["signals"],
        )
    signed_on = today - dt.timedelta(days=5)
    customer.refresh_from_db()
    contract = aftercare.customer_sign(
        actor=org.admin, customer=customer, amount="50000", signed_on=signed_on, paid_amount="10000",
        contract_number="HT-LIVE",
    )  # fmt: skip
    payout = aftercare.payout_add(
        actor=org.admin, contract=contract, due_date=signed_on + dt.timedelta(days=3), amount="500"
    )
    aftercare.payout_mark_paid(actor=org.admin, payout=payout, paid_on=signed_on + dt.timedelta(days=3))
    aftercare.payment_record(
        actor=org.admin, customer=customer, contract=contract, paid_on=signed_on + dt.timedelta(days=2),
        amount="20000", note="第二笔",
    )  # fmt: skip


def _import_files(org, customer: Customer, rep, today: dt.date, tmp_path, *, dry_run: bool = False) -> list[ImportJob]:
    stage_text = {None: "", 0: "0阶段", 1: "1阶段", 2: "2阶段", 3: "3阶段"}
    channel_text = {"phone": "电话", "wechat": "微信", "visit": "拜访"}
    rows = [["档案编号", "跟进时间", "跟进方式", "是否有效", "跟进后阶段", "信号", "跟进内容", "跟进人"]]
    for h in reversed(_history(today)):  # the file's order does not matter: the history's does
        at = _at(today, h["days"], h["hour"])
        rows.append(
            [
                customer.archive_no, timezone.localtime(at).strftime("%Y-%m-%d %H:%M"), channel_text[h["channel"]],
                "是" if h["effective"] else "否", stage_text[h["stage"]], "、".join(h["signals"]), h["note"],
                rep.username,
            ]
        )  # fmt: skip
    signed_on = today - dt.timedelta(days=5)
    files = [
        (ImportJob.Kind.FOLLOWUPS, rows),
        (
            ImportJob.Kind.CONTRACTS,
            [["电话", "签约日期", "合同金额", "首付金额", "合同编号"], [customer.phone, signed_on.isoformat(), "5万", "10000", "HT-IMPORTED"]],
        ),
        (
            ImportJob.Kind.PAYOUTS,
            [["合同编号", "应付日期", "金额", "付款日期"], ["HT-IMPORTED", str(signed_on + dt.timedelta(days=3)), "500", str(signed_on + dt.timedelta(days=3))]],
        ),
        (
            ImportJob.Kind.PAYMENTS,
            [["档案编号", "付款日期", "金额", "合同编号", "备注"], [customer.archive_no, str(signed_on + dt.timedelta(days=2)), "20,000", "HT-IMPORTED", "第二笔"]],
        ),
    ]  # fmt: skip
    jobs = []
    for kind, data in files:
        path = write_csv(tmp_path / f"{kind}.csv", data)
        jobs.append(importing.import_file(path, actor=org.admin, owner=None, kind=kind, dry_run=dry_run))
    return jobs


def _derived(customer: Customer) -> dict:
    customer.refresh_from_db()
    fus = list(
        FollowUp.objects.filter(customer=customer)
        .order_by("at", "id")
        .values_list("at", "channel", "effective", "summary", "signals", "stage_before", "stage_after",
                     "proposed_stage_signals", "proposed_stage_text", "text_keywords", "grade", "next_contact_on")
    )  # fmt: skip
    changes = list(
        StageChange.objects.filter(customer=customer)
        .order_by("at", "id")
        .values_list("from_stage", "to_stage", "at", "signals", "note", "by__role", "owner__role")
    )
    contract = Contract.objects.get(customer=customer)
    return {
        "customer": (customer.stage, customer.grade, customer.last_contact_at, customer.next_due_on,
                     customer.signed_at, customer.expected_sign_month, customer.recycle_locked),
        "follow_ups": fus,
        "stage_changes": changes,
        "contract": (contract.amount, contract.start_date, contract.end_date),
        "payouts": list(contract.payouts.values_list("due_date", "amount", "status", "paid_on")),
        "payments": sorted(Payment.objects.filter(customer=customer).values_list("paid_on", "amount", "note")),
    }  # fmt: skip


def _figures(org, user, today: dt.date) -> dict:
    f = ReportFilters(date_from=today - dt.timedelta(days=60), date_to=today, rep=user.pk, unit="month")
    points = [
        {k: v for k, v in vars(p).items()}
        for row in activity(user=org.admin, f=f).rows
        if row.user_id == user.pk
        for p in row.points
    ]
    agenda = [
        (i.stage, i.grade, i.due_on, i.is_due, i.overdue_days, i.last_contact_at)
        for i in pipeline_selectors.agenda_items(user=user, day=today)
    ]
    return {"activity": points, "agenda": agenda}


@pytest.mark.django_db
def test_imported_history_equals_the_same_history_entered_live(org, tmp_path):
    today = timezone.localdate()
    live = org.customer(org.rep, "同一人", phone="13800138001")
    imported = org.customer(org.teammate, "同一人", phone="13800138002")
    _enter_live(org, live, org.rep, today)
    with translation.override("en"):
        jobs = _import_files(org, imported, org.teammate, today, tmp_path)
    for job in jobs:
        assert job.status == ImportJob.Status.DONE, job.message
        assert (job.error_count, job.skipped_count) == (0, 0), job.errors
    assert [j.created_count for j in jobs] == [5, 1, 1, 1]
    assert _derived(live) == _derived(imported)
    assert _figures(org, org.rep, today) == _figures(org, org.teammate, today)
    assert _figures(org, org.rep, today)["activity"]  # the comparison compared something

    # A re-import adds nothing: every row is reported as already there.
    before = (FollowUp.objects.count(), StageChange.objects.count(), Payment.objects.count(), Payout.objects.count())
    again = _import_files(org, imported, org.teammate, today, tmp_path)
    assert [(j.created_count, j.skipped_count) for j in again] == [(0, 5), (0, 1), (0, 1), (0, 1)]
    after = (FollowUp.objects.count(), StageChange.objects.count(), Payment.objects.count(), Payout.objects.count())
    assert before == after


@pytest.mark.django_db
def test_old_dates_line_numbered_errors_and_dry_run(org, tmp_path):
    customer = org.customer(org.rep, "老客户", phone="13800138003")
    rows = [
        ["电话", "日期", "方式", "阶段", "备注"],
        ["13800138003", "2019-03-01 10:00", "电话", "1", "七年前"],  # far past the 60-day limit: fine here
        ["13800138003", "2019-13-40", "电话", "", ""],  # line 3: no such date
        ["13900000000", "2019-04-01", "电话", "", ""],  # line 4: no such customer
        ["13800138003", "2019-05-01 09:30", "飞鸽", "", ""],  # line 5: unknown channel
        ["13800138003", "2019-06-01 09:30", "电话", "E", ""],  # line 6: a signing goes with the contracts
    ]
    path = write_csv(tmp_path / "h.csv", rows)
    with translation.override("en"):
        dry = importing.import_file(path, actor=org.admin, owner=None, kind=ImportJob.Kind.FOLLOWUPS, dry_run=True)
        assert dry.status == ImportJob.Status.DONE and not FollowUp.objects.exists()
        real = importing.import_file(path, actor=org.admin, owner=None, kind=ImportJob.Kind.FOLLOWUPS)
    for job in (dry, real):
        assert (job.processed_rows, job.created_count, job.error_count) == (5, 1, 4)
        errors = {e["line"]: e["reason"] for e in importing.job_entries(job, "error")}
        assert sorted(errors) == [3, 4, 5, 6]
        assert "not a date" in errors[3] and "No customer" in errors[4]
        assert "channel" in errors[5] and "contracts" in errors[6]
    fu = FollowUp.objects.get()
    assert (fu.customer_id, fu.stage_after, timezone.localtime(fu.at).year) == (customer.pk, Stage.S1, 2019)
    customer.refresh_from_db()
    assert customer.stage == Stage.S1 and customer.next_due_on is not None


@pytest.mark.django_db
def test_history_import_is_for_administrators_only(org, tmp_path):
    path = write_csv(tmp_path / "h.csv", [["电话", "日期"], ["13800138003", "2024-01-01"]])
    with pytest.raises(DomainError):
        importing.import_file(path, actor=org.lead1, owner=None, kind=ImportJob.Kind.FOLLOWUPS)
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_command_imports_history(org, tmp_path, capsys):
    org.customer(org.rep, "命令", phone="13800138004")
    path = write_csv(
        tmp_path / "h.csv", [["phone", "at", "channel", "note"], ["13800138004", "2020-01-02 10:00", "phone", "hi"]]
    )
    call_command("import_customers", str(path), "--kind", "followups", "--as", "admin", "--language", "en")
    assert FollowUp.objects.filter(summary="hi", customer__phone_normalized="+8613800138004").count() == 1
