"""manage.py import_customers: the summary with line numbers, the progress bar, owners and failures."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.tests.import_helpers import write_csv, write_xlsx

ROWS = [
    ["姓名", "电话", "性别"],
    ["张三", "13800138000", "男"],
    ["李四", "not a phone", "女"],
    ["王五", "13800138000", "男"],
    ["赵六", "13900139000", "外星"],
]


def _call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_customers", *[str(a) for a in args], "--language", "en", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_summary_lists_each_bad_row_with_its_line_and_a_progress_bar(org, tmp_path):
    out, err = _call(write_csv(tmp_path / "c.csv", ROWS, encoding="gbk"), "--owner", "rep")
    assert "4 rows read; 1 customers created, 1 duplicates skipped, 2 rows with errors." in out
    assert "Rows with errors:" in out
    assert "line 3: “not a phone” in column 电话 is not a valid phone number." in out
    assert "line 5: “外星” in column 性别 is not one of:" in out
    assert "Duplicates skipped:\n  line 4: Same phone number as line 2 of this file." in out
    assert "100%" in err and "[" in err and "4/4" in err  # the bar, redrawn on stderr
    assert Customer.objects.get().owner == org.rep
    assert ImportJob.objects.get().created_by == org.rep


def test_dry_run_saves_nothing(org, tmp_path):
    out, _err = _call(write_csv(tmp_path / "c.csv", ROWS), "--owner", "rep", "--dry-run")
    assert "Dry run: 4 rows read; 1 would be created" in out
    assert not Customer.objects.exists()


def test_pool_and_acting_user(org, tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", ROWS[:2])
    _call(path, "--pool")  # by default the first administrator imports into the pool
    customer = Customer.objects.get()
    assert customer.owner is None and customer.created_by == org.admin


def test_lead_imports_for_a_rep_but_a_rep_not_for_a_teammate(org, tmp_path):
    path = write_csv(tmp_path / "c.csv", ROWS[:2])
    _call(path, "--owner", "rep", "--as", "lead1")
    assert Customer.objects.get().created_by == org.lead1
    with pytest.raises(CommandError, match="cannot import customers for"):
        _call(path, "--owner", "teammate", "--as", "rep")
    with pytest.raises(CommandError, match="Only an administrator"):
        _call(path, "--pool", "--as", "rep")


def test_file_level_failures_are_command_errors(org, tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        _call(tmp_path / "missing.csv", "--owner", "rep")
    with pytest.raises(CommandError, match="No active user"):
        _call(write_csv(tmp_path / "c.csv", ROWS), "--owner", "nobody")
    with pytest.raises(CommandError, match="no name column"):
        _call(write_csv(tmp_path / "n.csv", [["电话"], ["13800138000"]]), "--owner", "rep")
    assert not Customer.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED
