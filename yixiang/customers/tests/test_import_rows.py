"""Import: row-level rules, duplicates, all-or-nothing rows, dry runs, resuming, scope and audit."""

from __future__ import annotations

import pytest
from django.db import DatabaseError
from django.test import override_settings
from django.utils import translation

from yixiang.accounts.models import AuditEvent
from yixiang.customers import importing, services
from yixiang.customers.models import ArchiveSequence, Customer, CustomerChange, ImportJob, Tag
from yixiang.customers.tests.import_helpers import write_csv
from yixiang.errors import DomainError

HEADER = ["姓名", "电话", "公司", "城市", "性别", "生日", "来源", "邮箱", "标签"]


def _run(path, user, owner="same", **kw) -> ImportJob:
    with translation.override("en"):
        return importing.import_file(path, actor=user, owner=user if owner == "same" else owner, **kw)


def _entries(job, kind="error"):
    return {e["line"]: e["reason"] for e in importing.job_entries(job, kind)}


def _yixiang(**extra):
    from django.conf import settings

    return override_settings(YIXIANG={**settings.YIXIANG, **extra})


def test_bad_rows_are_reported_by_line_and_good_rows_go_in(org, tmp_path):
    rows = [
        HEADER,
        ["张三", "13800138000", "", "", "男", "", "", "", ""],  # line 2: good
        ["李四", "12ab", "", "", "", "", "", "", ""],  # 3: bad phone
        ["", "13900139000", "", "", "", "", "", "", ""],  # 4: no name
        ["王五", "13700137000", "", "", "", "1990-13-45", "", "", ""],  # 5: bad date
        ["赵六", "13600136000", "", "", "不男不女", "", "网上", "", ""],  # 6: two bad choices
        ["孙七", "1.38E+10", "", "", "", "", "", "", ""],  # 7: Excel mangled the phone
        ["周八", "13500135000", "", "", "", "", "", "not-an-email", ""],  # 8: bad email
        ["吴九", "13400134000", "", "", "", "2999-01-01", "", "", ""],  # 9: born in the future
        ["郑十", "13800138000", "", "", "", "", "", "", ""],  # 10: same phone as line 2
        ["钱十一", "13300133000", "", "", "", "", "", "", "好" * 51],  # 11: tag too long
        ["名" * 101, "13200132000", "", "", "", "", "", "", ""],  # 12: name too long
        ["陈十二", "+86 131 0013 1000", "", "", "女", "", "", "", ""],  # 13: good
    ]
    job = _run(write_csv(tmp_path / "bad.csv", rows), org.rep)
    assert (job.processed_rows, job.created_count, job.error_count, job.skipped_count) == (12, 2, 9, 1)
    errors = _entries(job)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 11, 12]
    assert "“12ab” in column 电话 is not a valid phone number" in errors[3]
    assert errors[4] == "The name is missing."
    assert "“1990-13-45” in column 生日 is not a date" in errors[5]
    assert "性别" in errors[6] and "来源" in errors[6]  # every problem of the row, not just the first
    assert "Excel turned it into a number" in errors[7]
    assert "not a valid email" in errors[8]
    assert "not a possible date of birth" in errors[9]
    assert "longer than 50" in errors[11]
    assert "longer than 100" in errors[12]
    assert _entries(job, "duplicate") == {10: "Same phone number as line 2 of this file."}
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "陈十二"]


def test_reimport_creates_no_duplicates_with_or_without_phone(org, tmp_path):
    rows = [
        HEADER,
        ["张三", "13800138000", "甲公司", "北京", "", "", "", "", "VIP"],
        ["李四", "", "乙公司", "上海", "", "", "", "", ""],
        ["李四", "", "丙公司", "上海", "", "", "", "", ""],  # same name, another company: a different person
        ["李四", "", "乙公司", "上海", "", "", "", "", ""],  # same name+company+city as line 3
    ]
    path = write_csv(tmp_path / "c.csv", rows)
    first = _run(path, org.rep)
    assert (first.created_count, first.skipped_count) == (3, 1)
    assert _entries(first, "duplicate") == {5: "Same name, company and city as line 3 of this file."}
    archive_before = ArchiveSequence.objects.get().value
    second = _run(path, org.rep)
    assert (second.created_count, second.skipped_count, second.error_count) == (0, 4, 0)
    assert Customer.objects.count() == 3 and CustomerChange.objects.count() == 3
    zhang = Customer.objects.get(name="张三")
    dup = _entries(second, "duplicate")
    assert dup[2] == f"Already in the archive: 张三 ({zhang.archive_no})."
    assert "Already in the archive: 李四" in dup[3]
    assert ArchiveSequence.objects.get().value == archive_before  # nothing reserved for skipped rows


def test_duplicates_of_customers_the_user_cannot_see_or_in_the_trash(org, tmp_path):
    hidden = org.customer(org.outsider, "外人", phone="13800138000")
    trashed = org.customer(org.rep, "旧客户", phone="13900139000")
    services.customer_soft_delete(actor=org.rep, customer=trashed)
    rows = [
        HEADER,
        ["张三", "138 0013 8000", "", "", "", "", "", "", ""],
        ["旧", "13900139000", "", "", "", "", "", "", ""],
    ]
    job = _run(write_csv(tmp_path / "c.csv", rows), org.rep)
    dup = _entries(job, "duplicate")
    assert dup[2] == "Already in the archive as another rep's customer, which you cannot see."
    assert hidden.archive_no not in dup[2]
    assert "外人" not in dup[2]  # the name of a customer out of scope does not leak
    assert dup[3] == f"Already in the archive, in the trash: 旧客户 ({trashed.archive_no})."
    assert job.created_count == 0


def test_in_file_duplicates_are_found_across_batches(org, tmp_path):
    rows = [HEADER] + [[f"客户{i}", f"1380013{i:04d}", "", "", "", "", "", "", ""] for i in range(7)]
    rows.append(["重复", "13800130001", "", "", "", "", "", "", ""])  # line 9 repeats line 3
    with _yixiang(IMPORT_BATCH_SIZE=3):
        job = _run(write_csv(tmp_path / "c.csv", rows), org.rep, dry_run=True)
    assert (job.created_count, job.skipped_count) == (7, 1)
    assert _entries(job, "duplicate") == {9: "Same phone number as line 3 of this file."}


def test_dry_run_writes_nothing(org, tmp_path):
    rows = [
        HEADER,
        ["张三", "13800138000", "", "", "", "", "", "", "新标签"],
        ["李四", "bad", "", "", "", "", "", "", ""],
    ]
    job = _run(write_csv(tmp_path / "c.csv", rows), org.rep, dry_run=True)
    assert job.status == ImportJob.Status.DONE and job.dry_run
    assert (job.created_count, job.error_count) == (1, 1)
    assert "would be created" in job.message and "Nothing was saved" in job.message
    assert not Customer.objects.exists() and not Tag.objects.exists() and not CustomerChange.objects.exists()
    assert not ArchiveSequence.objects.exists()


def test_a_row_is_all_or_nothing_and_a_failing_batch_falls_back_row_by_row(org, tmp_path, monkeypatch):
    rows = [HEADER] + [[f"客户{i}", f"1380013{i:04d}", "", "", "", "", "", "", "标签"] for i in range(5)]
    real_history = importing._ImportRun._history

    def history(self, row, base, owner_label):
        if row.line == 4:  # the history row of line 4 cannot be written
            raise DatabaseError("simulated failure")
        return real_history(self, row, base, owner_label)

    monkeypatch.setattr(importing._ImportRun, "_history", history)
    job = _run(write_csv(tmp_path / "c.csv", rows), org.rep)
    assert (job.created_count, job.error_count) == (4, 1)
    assert "could not be saved" in _entries(job)[4]
    # Line 4's customer, tag link and history went together; every other row is whole.
    assert not Customer.objects.filter(name="客户2").exists()
    assert Customer.objects.count() == 4
    assert CustomerChange.objects.filter(action="import").count() == 4
    assert Customer.tags.through.objects.count() == 4
    assert all(c.changes.count() == 1 and c.tags.count() == 1 for c in Customer.objects.all())


def test_phone_taken_between_check_and_insert_is_skipped_not_fatal(org, tmp_path, monkeypatch):
    org.customer(org.teammate, "先来", phone="13800130002")
    real = importing._ImportRun._drop_existing
    monkeypatch.setattr(importing._ImportRun, "_drop_existing", lambda self, prepared, outcome: prepared)
    rows = [HEADER] + [[f"客户{i}", f"1380013{i:04d}", "", "", "", "", "", "", ""] for i in range(5)]
    job = _run(write_csv(tmp_path / "c.csv", rows), org.rep)
    assert (job.created_count, job.skipped_count, job.error_count) == (4, 1, 0)
    assert "added this phone number meanwhile" in _entries(job, "duplicate")[4]
    monkeypatch.setattr(importing._ImportRun, "_drop_existing", real)


def test_error_list_is_capped_but_counts_stay_exact(org, tmp_path):
    rows = [HEADER] + [[f"客户{i}", "bad", "", "", "", "", "", "", ""] for i in range(12)]
    rows += [[f"重复{i}", "13800138000", "", "", "", "", "", "", ""] for i in range(8)]
    with _yixiang(IMPORT_MAX_STORED_ERRORS=5, IMPORT_BATCH_SIZE=4):
        job = _run(write_csv(tmp_path / "c.csv", rows), org.rep)
    assert (job.error_count, job.skipped_count, job.created_count) == (12, 7, 1)
    assert len(importing.job_entries(job, "error")) == 5 and importing.job_entries_left_out(job, "error") == 7
    assert len(importing.job_entries(job, "duplicate")) == 5
    assert sorted(_entries(job)) == [2, 3, 4, 5, 6]  # the first ones


def test_an_interrupted_import_resumes_after_its_last_committed_batch(org, tmp_path):
    rows = [HEADER] + [[f"客户{i}", f"1380013{i:04d}", "", "", "", "", "", "", ""] for i in range(10)]
    path = write_csv(tmp_path / "c.csv", rows)

    class Killed(BaseException):  # like SIGKILL: nothing in the import gets to clean up
        pass

    def die_after_second_batch(job):
        if job.processed_rows >= 6:
            raise Killed

    job = importing.create_import_job(actor=org.rep, owner=org.rep, file_path=path, file_name="c.csv", dry_run=False)
    with _yixiang(IMPORT_BATCH_SIZE=3), pytest.raises(Killed):
        importing.run_import_job(job, progress=die_after_second_batch)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and job.processed_rows == 6
    assert Customer.objects.count() == 6
    with _yixiang(IMPORT_BATCH_SIZE=3):
        job = importing.run_import_job(job)
    assert job.status == ImportJob.Status.DONE
    assert (job.processed_rows, job.created_count, job.skipped_count) == (10, 10, 0)
    assert Customer.objects.count() == 10


def test_a_second_runner_of_the_same_job_stops_at_its_first_batch(org, tmp_path):
    rows = [HEADER] + [[f"客户{i}", f"1380013{i:04d}", "", "", "", "", "", "", ""] for i in range(6)]
    job = importing.create_import_job(
        actor=org.rep, owner=org.rep, file_path=write_csv(tmp_path / "c.csv", rows), file_name="c.csv", dry_run=False
    )

    def other_runner_moved_on(j):
        # Another worker committed a batch of this job meanwhile.
        if j.processed_rows == 3:
            ImportJob.objects.filter(pk=j.pk).update(processed_rows=6)

    with _yixiang(IMPORT_BATCH_SIZE=3):
        importing.run_import_job(job, progress=other_runner_moved_on)
    assert Customer.objects.count() == 3  # this runner stopped instead of writing rows 4-6 again


@pytest.mark.parametrize(
    ("actor", "owner", "allowed"),
    [
        ("rep", "rep", True),
        ("rep", "teammate", False),
        ("rep", None, False),
        ("lead1", "rep", True),
        ("lead1", "other_team_rep", False),
        ("director", "other_team_rep", True),
        ("director", "outsider", False),
        ("admin", None, True),
    ],
)
def test_owner_must_be_in_the_importers_scope(org, tmp_path, actor, owner, allowed):
    path = write_csv(tmp_path / "c.csv", [HEADER, ["张三", "13800138000", "", "", "", "", "", "", ""]])
    actor_user = getattr(org, actor)
    owner_user = getattr(org, owner) if owner else None
    if not allowed:
        with pytest.raises(DomainError):
            _run(path, actor_user, owner=owner_user)
        assert not Customer.objects.exists() and not ImportJob.objects.exists()
        return
    job = _run(path, actor_user, owner=owner_user)
    assert job.created_count == 1
    assert Customer.objects.get().owner == owner_user


def test_every_import_leaves_an_audit_event(org, tmp_path):
    path = write_csv(tmp_path / "c.csv", [HEADER, ["张三", "13800138000", "", "", "", "", "", "", ""]])
    dry = _run(path, org.lead1, owner=org.rep, dry_run=True)
    real = _run(path, org.lead1, owner=org.rep)
    events = list(AuditEvent.objects.filter(action="customer.import").order_by("at", "id"))
    assert [(e.actor, e.target_id, e.detail["dry_run"], e.detail["created"]) for e in events] == [
        (org.lead1, str(dry.pk), True, 1),
        (org.lead1, str(real.pk), False, 1),
    ]
    assert events[1].detail["owner"] == "rep" and events[1].detail["file"] == "c.csv"
