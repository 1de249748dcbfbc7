"""Issue 16, "done means": a company built from nothing through the HTTP API alone — organisation,
customers by an import job, a migrated follow-up history, signings and money, the month's inputs —
reads the same incentive statements and team review as the same company built through the services.

The only step outside the API is the first administrator. The API twin is built inside a savepoint
and read, then rolled back; the service twin is built in the same (now empty) company, with the
same names, and read through the same two routes. Ids differ; everything else must be equal."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from yixiang.accounts import services_org
from yixiang.accounts.models import Role, User
from yixiang.aftercare import services_contracts as aftercare
from yixiang.customers import importing
from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.tests.import_helpers import csv_bytes, write_csv
from yixiang.incentives import services as incentives
from yixiang.pipeline import events
from yixiang.pipeline import services as pipeline
from yixiang.pipeline.playbook import get_playbook
from yixiang.testing import ApiClient

PASSWORD = "pw-company-123456"
HIRED = dt.date(2019, 3, 1)
# name, phone, owner
CUSTOMERS = [
    ("王一", "13900000001", "rep_a"),
    ("王二", "13900000002", "rep_a"),
    ("王三", "13900000003", "rep_a"),
    ("李一", "13900000004", "rep_b"),
    ("李二", "13900000005", "rep_b"),
]
# customer, signed day of the month, amount (all paid at signing); an extra payment day and amount
SIGNINGS = [("王一", 20, 30000, (24, 5000)), ("李一", 21, 9000, None), ("王二", 22, 25000, None)]
# Thresholds: rep_a passes it (one counted, one rewarded), rep_b falls short (a penalty).
THRESHOLDS = {"rep_a": 1, "rep_b": 2}
CHANNEL_TEXT = {"phone": "电话", "wechat": "微信", "visit": "拜访"}


def _month() -> dt.date:
    """Last month: in the past (history) yet recent, whatever the day the test runs."""
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _signals(stage: int) -> list[str]:
    return [code for code, s in get_playbook().signal_stage.items() if s == stage][:1]


def _history(month: dt.date) -> list[dict[str, Any]]:
    """A few follow-ups per customer raising stages over past dates; 王三 drops back; one not effective."""
    rows = []
    for name, _phone, owner in CUSTOMERS:
        steps = [(3, 10, "phone", True, 1), (8, 15, "wechat", False, None), (12, 11, "visit", True, 2)]
        if name in ("王一", "李一"):
            steps.append((16, 9, "phone", True, 3))
        if name == "王三":
            steps.append((14, 16, "phone", True, 0))
        for day, hour, channel, effective, stage in steps:
            at = timezone.make_aware(dt.datetime.combine(month.replace(day=day), dt.time(hour, 0)))
            signals = _signals(stage) if stage and stage > 1 else []
            note = f"{name}第{day}日跟进"
            rows.append({"customer": name, "at": at, "channel": channel, "effective": effective, "stage": stage,
                         "signals": signals, "note": note, "rep": owner})  # fmt: skip
    return rows


def _customer_rows(owner: str) -> list[list[str]]:
    return [["姓名", "电话"]] + [[n, p] for n, p, o in CUSTOMERS if o == owner]


def _history_rows(month: dt.date) -> list[list[str]]:
    phones = {n: p for n, p, _o in CUSTOMERS}
    rows = [["电话", "跟进时间", "跟进方式", "是否有效", "跟进后阶段", "信号", "跟进内容", "跟进人"]]
    for h in reversed(_history(month)):  # the file's order does not matter: the history's does
        rows.append([
            phones[h["customer"]], timezone.localtime(h["at"]).strftime("%Y-%m-%d %H:%M"),
            CHANNEL_TEXT[h["channel"]], "是" if h["effective"] else "否",
            "" if h["stage"] is None else f"{h['stage']}阶段", "、".join(h["signals"]), h["note"], h["rep"],
        ])  # fmt: skip
    return rows


# --- The API twin ------------------------------------------------------------------------------


def _ok(resp, status: int = 200) -> Any:
    assert resp.status_code == status, resp.content.decode()[:500]
    return resp.json()


def _upload(api: ApiClient, name: str, content: bytes, **form: Any) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "dry_run": "false", **form}
    job = _ok(api.client.post("/api/v1/imports", data, headers=api.headers), 201)
    for _ in range(50):  # small files finish in the request; poll as a client would all the same
        job = _ok(api.get(f"/api/v1/imports/{job['id']}"))
        if job["status"] in ("done", "failed"):
            break
    assert job["status"] == "done", job
    assert job["error_count"] == 0, _ok(api.get(f"/api/v1/imports/{job['id']}/errors"))
    return job


def build_through_api(admin: User, month: dt.date) -> None:
    api = ApiClient(admin)
    region = _ok(api.post("/api/v1/org/regions", {"name": "华东大区"}), 201)
    team = _ok(api.post("/api/v1/org/teams", {"name": "东一组", "region_id": region["id"]}), 201)
    staff = {}
    for username, role, where in [
        ("director_e", Role.DIRECTOR, {"region_id": region["id"]}),
        ("lead_e", Role.LEAD, {"team_id": team["id"]}),
        ("rep_a", Role.REP, {"team_id": team["id"]}),
        ("rep_b", Role.REP, {"team_id": team["id"]}),
    ]:
        body = {"username": username, "password": PASSWORD, "role": role, "hire_date": HIRED.isoformat(), **where}
        staff[username] = _ok(api.post("/api/v1/org/staff", body), 201)

    for rep in ("rep_a", "rep_b"):
        job = _upload(api, f"{rep}.csv", csv_bytes(_customer_rows(rep)), owner_id=staff[rep]["id"])
        assert job["created_count"] == len(_customer_rows(rep)) - 1
    history = _upload(api, "history.csv", csv_bytes(_history_rows(month)), kind="followups")
    assert history["processed_rows"] == len(_history_rows(month)) - 1

    ids = {c["name"]: c["id"] for c in _ok(api.get("/api/v1/customers", page_size=100))["items"]}
    for name, day, amount, extra in SIGNINGS:
        body = {"amount": str(amount), "paid_amount": str(amount), "signed_on": month.replace(day=day).isoformat()}
        _ok(api.post(f"/api/v1/customers/{ids[name]}/sign", body))
        if extra:
            pay = {"paid_on": month.replace(day=extra[0]).isoformat(), "amount": str(extra[1])}
            _ok(api.post(f"/api/v1/customers/{ids[name]}/payments", pay), 201)
        owner = next(o for n, _p, o in CUSTOMERS if n == name)
        dev = {"customer_id": ids[name], "developer_id": staff[owner]["id"], "month": month.strftime("%Y-%m")}
        _ok(api.post("/api/v1/incentives/developed", dev))
    for rep in ("rep_a", "rep_b"):
        month_text = month.strftime("%Y-%m")
        body = {"user_id": staff[rep]["id"], "month": month_text, "threshold": THRESHOLDS[rep], "performance_pay": 3000}
        _ok(api.post("/api/v1/incentives/assessments", body))


# --- The service twin --------------------------------------------------------------------------


def build_through_services(admin: User, month: dt.date, tmp_path: Path) -> None:
    region = services_org.region_save(actor=admin, name="华东大区")
    team = services_org.team_save(actor=admin, name="东一组", region=region)
    staff = {}
    for username, role, where in [
        ("director_e", Role.DIRECTOR, {"region_id": region.pk}),
        ("lead_e", Role.LEAD, {"team_id": team.pk}),
        ("rep_a", Role.REP, {"team_id": team.pk}),
        ("rep_b", Role.REP, {"team_id": team.pk}),
    ]:
        data = {"role": role, "hire_date": HIRED, **where}
        staff[username] = services_org.staff_create(actor=admin, username=username, password=PASSWORD, data=data)

    for rep in ("rep_a", "rep_b"):
        path = write_csv(tmp_path / f"{rep}.csv", _customer_rows(rep))
        job = importing.import_file(path, actor=admin, owner=staff[rep])
        assert (job.status, job.error_count) == (ImportJob.Status.DONE, 0)
    customers = {c.name: c for c in Customer.objects.all()}
    for h in _history(month):  # one by one, as live, with the back-dating limit lifted
        pipeline.followup_log(
            actor=staff[h["rep"]], customer=Customer.objects.get(pk=customers[h["customer"]].pk), stage=h["stage"],
            at=h["at"], channel=h["channel"], effective=h["effective"], summary=h["note"], signals=h["signals"],
            history_import=True,
        )  # fmt: skip

    for name, day, amount, extra in SIGNINGS:
        customer = Customer.objects.get(pk=customers[name].pk)
        events.sign_customer(
            actor=admin,
            customer=customer,
            amount=str(amount),
            paid_amount=str(amount),
            signed_on=month.replace(day=day),
        )
        if extra:
            aftercare.payment_record(
                actor=admin, customer=customer, paid_on=month.replace(day=extra[0]), amount=str(extra[1])
            )
        owner = next(o for n, _p, o in CUSTOMERS if n == name)
        incentives.developed_customer_record(
            actor=admin, customer_id=customer.pk, developer_id=staff[owner].pk, month=month
        )
    for rep in ("rep_a", "rep_b"):
        incentives.assessment_save(
            actor=admin, user_id=staff[rep].pk, month=month, threshold=THRESHOLDS[rep], performance_pay=3000, target=None,
            on_probation=None,
        )  # fmt: skip


# --- Reading the figures -----------------------------------------------------------------------


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("id", "user_id")}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def figures(admin: User, month: dt.date) -> dict[str, Any]:
    api = ApiClient(admin)
    statements = _ok(api.get("/api/v1/incentives/statements", month=month.strftime("%Y-%m")))
    last = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    review = _ok(api.get("/api/v1/team/review", **{"from": month.isoformat(), "to": last.isoformat()}))
    customers = _ok(api.get("/api/v1/customers", page_size=100))["items"]
    return {
        "statements": sorted(_without_ids(statements), key=lambda s: s["user"]),
        "review": sorted(_without_ids(review["members"]), key=lambda m: m["name"]),
        "stages": sorted((c["name"], c["stage"]) for c in customers),
    }


@pytest.fixture
def admin(db) -> User:
    from django.apps import apps

    from yixiang.incentives.models import SchemeVersion

    if not SchemeVersion.objects.exists():  # the seeded scheme versions (a flushed test database lacks them)
        importlib.import_module("yixiang.incentives.migrations.0002_seed_scheme").seed(apps, None)
    return User.objects.create_user(
        username="boss", password=PASSWORD, role=Role.ADMIN, is_staff=True, is_superuser=True, hire_date=HIRED
    )


def test_a_company_built_through_the_api_reads_as_the_same_company_built_through_the_services(admin, tmp_path):
    month = _month()
    with transaction.atomic():
        build_through_api(admin, month)
        via_api = figures(admin, month)
        transaction.set_rollback(True)  # the same company again, from nothing, through the services
    assert not User.objects.filter(username="rep_a").exists() and not Customer.objects.exists()
    build_through_services(admin, month, tmp_path)
    via_services = figures(admin, month)

    # Not trivial: customers developed and counted, stages raised and dropped, signings, a reward.
    by_user = {s["user"]: s for s in via_api["statements"]}
    assert (by_user["rep_a"]["valid_customers"], by_user["rep_b"]["valid_customers"]) == (2, 1)
    kinds = {(s["user"], line["kind"]) for s in by_user.values() for line in s["lines"] if line["amount"]}
    assert ("rep_a", "reward") in kinds and by_user["rep_b"]["total"] < 0, by_user
    review = {m["name"]: m for m in via_api["review"]}
    rep_a = next(m for name, m in review.items() if "rep_a" in name)
    assert (rep_a["signed"], rep_a["drops"]) == (2, 1) and rep_a["rises"] == 7 and rep_a["follow_ups"] == 11
    assert via_api["stages"] == [("李一", 5), ("李二", 2), ("王一", 5), ("王三", 0), ("王二", 5)]

    assert via_api["stages"] == via_services["stages"]
    assert via_api["statements"] == via_services["statements"]
    assert via_api["review"] == via_services["review"]


def test_only_an_administrator_may_upload_a_history_and_a_refusal_keeps_nothing(admin, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    director = User.objects.create_user(username="director_x", password=PASSWORD, role=Role.DIRECTOR)
    api = ApiClient(director)
    data = {"file": SimpleUploadedFile("h.csv", csv_bytes(_history_rows(_month()))), "kind": "followups"}
    resp = api.client.post("/api/v1/imports", data, headers=api.headers)
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden", resp.content
    assert not ImportJob.objects.exists()
    data["kind"] = "spreadsheets"
    resp = ApiClient(admin).client.post("/api/v1/imports", data, headers=ApiClient(admin).headers)
    assert resp.status_code == 422 and not ImportJob.objects.exists()
