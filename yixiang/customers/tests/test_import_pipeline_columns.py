"""Owner, stage, grade and next contact in an import (issue 14): set only within the importer's
scope, the stage recorded as a judgment, bad values as line-numbered row errors, and every line's
result in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from yixiang.customers import importing
from yixiang.customers.models import Customer, CustomerChange
from yixiang.customers.tests.import_helpers import write_csv
from yixiang.pipeline.models import StageChange

HEAD = ["姓名", "电话", "负责人", "意向阶段", "客户等级", "下次联系日期"]


def _run(tmp_path, actor, rows, *, owner="actor", dry_run=False, language="en"):
    path = write_csv(tmp_path / "pipeline.csv", [HEAD, *rows])
    with translation.override(language):
        return importing.import_file(path, actor=actor, owner=actor if owner == "actor" else owner, dry_run=dry_run)


def _errors(job) -> dict[int, str]:
    return {e["line"]: e["reason"] for e in importing.job_entries(job, "error")}


def test_a_rep_sets_stage_grade_and_next_contact_for_themself_only(org, tmp_path):
    due = timezone.localdate() + dt.timedelta(days=5)
    rows = [
        ["甲", "13800000001", "rep", "0", "A", due.isoformat()],
        ["乙", "13800000002", "", "拒绝", "", ""],
        ["丙", "13800000003", "rep", "E", "", ""],
        ["丁", "13800000004", "teammate", "2", "", ""],  # line 5: not the rep's to assign
        ["戊", "13800000005", "公海", "1", "", ""],  # line 6: the pool is the admin's
        ["己", "13800000006", "rep", "7", "", ""],  # line 7: no such stage
        ["庚", "13800000007", "rep", "3阶段", "Z", "明天"],  # line 8: bad grade and date
        ["辛", "13800000008", "nobody", "1", "", ""],  # line 9: unknown: the same message
        ["壬", "13800000009", "rep", "4阶段", "", ""],
    ]
    job = _run(tmp_path, org.rep, rows)
    errors = _errors(job)
    assert sorted(errors) == [5, 6, 7, 8, 9], errors
    assert "teammate" in errors[5] and "not someone you may import customers for" in errors[5]
    assert errors[9].replace("nobody", "teammate") == errors[5]  # no user directory through the import
    assert "administrator" in errors[6]
    assert "意向阶段" in errors[7] and "Rejecting" in errors[7] and "Signed (E)" in errors[7]
    assert "Z" in errors[8] and "明天" in errors[8]
    assert job.created_count == 4
    by_name = {c.name: c for c in Customer.objects.all()}
    assert {n: (c.owner_id, c.stage, c.grade) for n, c in by_name.items()} == {
        "甲": (org.rep.pk, 0, "A"),
        "乙": (org.rep.pk, -1, ""),
        "丙": (org.rep.pk, 5, ""),
        "壬": (org.rep.pk, 4, ""),
    }
    assert by_name["甲"].next_due_on == due and by_name["乙"].next_due_on is None
    changes = {c.customer.name: c for c in StageChange.objects.select_related("customer")}
    assert {n: c.to_stage for n, c in changes.items()} == {"甲": 0, "乙": -1, "丙": 5, "壬": 4}
    assert all(
        (c.from_stage, c.by_id, c.owner_id, c.note) == (None, org.rep.pk, org.rep.pk, "import")
        for c in changes.values()
    )
    history = CustomerChange.objects.get(customer=by_name["甲"]).changes
    assert history["stage"] == [None, 0] and history["next_due_on"] == [None, due.isoformat()]


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("lead1", ["teammate", "rep"], ["other_team_rep", "outsider"]),
        ("director", ["teammate", "other_team_rep"], ["outsider", "south_lead"]),
        ("admin", ["teammate", "other_team_rep", "outsider", "公海"], []),
    ],
)
def test_owner_within_the_importers_scope(org, tmp_path, who, allowed, refused):
    actor = getattr(org, who)
    names = allowed + refused
    rows = [[f"客户{i}", f"1390000000{i}", n, "1", "", ""] for i, n in enumerate(names)]
    job = _run(tmp_path, actor, rows)
    assert sorted(_errors(job)) == [2 + len(allowed) + i for i in range(len(refused))]
    owners = {c.name: c.owner.username if c.owner else "公海" for c in Customer.objects.all()}
    assert owners == {f"客户{i}": n for i, n in enumerate(allowed)}
    for change in StageChange.objects.select_related("customer"):
        assert change.owner_id == change.customer.owner_id and change.by_id == actor.pk


def test_owner_by_display_name_and_ambiguous_names(org, tmp_path):
    org.rep.display_name = "王小明"
    org.rep.save()
    org.teammate.display_name = "王小明"
    org.teammate.save()
    job = _run(
        tmp_path,
        org.lead1,
        [["甲", "13800000001", "王小明", "", "", ""], ["乙", "13800000002", "teammate", "", "", ""]],
    )
    assert list(_errors(job)) == [2] and "username" in _errors(job)[2]
    org.teammate.display_name = "小李"
    org.teammate.save()
    job = _run(tmp_path, org.lead1, [["丙", "13800000003", "王小明", "", "", ""]])
    assert Customer.objects.get(name="丙").owner == org.rep


def test_a_duplicate_with_a_foreign_owner_is_a_duplicate_and_a_dry_run_judges_nothing(org, tmp_path):
    _run(tmp_path, org.rep, [["甲", "13800000001", "rep", "1", "", ""]])
    job = _run(tmp_path, org.rep, [["甲", "13800000001", "公海", "2", "", ""]])  # an export's pool row
    assert (job.skipped_count, job.error_count) == (1, 0)
    job = _run(tmp_path, org.rep, [["乙", "13800000002", "rep", "3", "", ""]], dry_run=True)
    assert job.created_count == 1 and StageChange.objects.count() == 1


def test_result_labels_say_what_happened_in_chinese_and_english(org, tmp_path, api_as):
    rows = [
        ["甲", "13800000001", "rep", "1", "", ""],
        ["甲", "13800000001", "", "", "", ""],
        ["乙", "", "", "9", "", ""],
    ]
    job = _run(tmp_path, org.rep, rows)
    with translation.override("en"):
        assert importing.job_entries(job, "duplicate")[0]["label"].startswith("Skipped as a duplicate: ")
        assert "line 2" in importing.job_entries(job, "duplicate")[0]["label"]
        assert importing.job_entries(job, "error")[0]["label"].startswith("Error: ")
    with translation.override("zh-hans"):
        assert importing.job_entries(job, "duplicate")[0]["label"].startswith("已跳过（重复）：")
        assert importing.job_entries(job, "error")[0]["label"].startswith("错误：")
    reply = api_as(org.rep).get(f"/api/v1/imports/{job.pk}/errors", kind="error")
    assert reply.status_code == 200
    assert reply.json()["items"][0]["label"].startswith(("Error: ", "错误："))
    page = api_as(org.rep).client
    page.force_login(org.rep)
    html = page.get(f"/customers/import/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已跳过（重复）：" in html and "错误：" in html
