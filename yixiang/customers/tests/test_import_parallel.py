"""Big files are parsed in a second process while the first one writes: same outcome, row for row,
as parsing in-process (errors by line, duplicates, history), and a file error found by the parsing
process fails the job like any other."""

from __future__ import annotations

import codecs

import pytest
from django.test import override_settings
from django.utils import translation

from yixiang.customers import import_writer, importing
from yixiang.customers.models import Customer, CustomerChange, ImportJob
from yixiang.customers.tests.import_helpers import write_csv

HEADER = ["姓名", "电话", "公司", "城市", "性别", "生日", "标签"]


def _settings(parallel: bool, **extra):
    from django.conf import settings

    return override_settings(
        YIXIANG={**settings.YIXIANG, "IMPORT_PARALLEL_MIN_ROWS": 1 if parallel else 10**9, **extra}
    )


def _rows() -> list[list[str]]:
    rows = [HEADER]
    for i in range(40):
        rows.append([f"客户{i}", f"138{i:08d}", "", "", "男", "", "甲,乙" if i % 5 == 0 else ""])
    rows[7] = ["", "13900000007", "", "", "", "", ""]  # line 7: no name
    rows[12] = ["坏日", "13900000012", "", "", "", "1990-13-45", ""]  # line 12: bad date
    rows[20] = ["重复", "138 0000 0003", "", "", "", "", ""]  # line 20: same phone as line 5
    rows[33] = ["无电话", "", "某公司", "上海", "", "", ""]  # line 34: phoneless
    rows[34] = ["无电话", "", "某公司", "上海", "", "", ""]  # line 35: the same again
    return rows


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "parsing-process"])
def test_parallel_parsing_gives_the_same_outcome(org, tmp_path, parallel, monkeypatch):
    started = []
    real = import_writer._parse_in_child
    monkeypatch.setattr(import_writer, "_parse_in_child", lambda *a: started.append(1) or real(*a))
    path = write_csv(tmp_path / "c.csv", _rows())
    with _settings(parallel, IMPORT_BATCH_SIZE=7), translation.override("en"):
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert bool(started) is parallel
    assert job.status == ImportJob.Status.DONE
    assert (job.processed_rows, job.created_count, job.error_count, job.skipped_count) == (40, 36, 2, 2)
    errors = {e["line"]: e["reason"] for e in importing.job_entries(job, "error")}
    assert sorted(errors) == [8, 13]
    assert errors[8] == "The name is missing."
    assert "not a date" in errors[13]
    dups = {e["line"]: e["reason"] for e in importing.job_entries(job, "duplicate")}
    assert dups == {
        21: "Same phone number as line 5 of this file.",
        35: "Same name, company and city as line 34 of this file.",
    }
    created = Customer.objects.filter(owner=org.rep)
    assert created.count() == 36
    assert CustomerChange.objects.filter(customer__in=created, action=CustomerChange.Action.IMPORT).count() == 36
    c = Customer.objects.get(phone_normalized="+8613800000010")
    assert (c.name, c.name_pinyin, sorted(c.tags.values_list("name", flat=True))) == ("客户10", "kehu10", ["乙", "甲"])


def test_a_file_error_found_by_the_parsing_process_fails_the_job(org, tmp_path):
    good = "\r\n".join(["姓名,电话"] + [f"客户{i},138{i:08d}" for i in range(30)]) + "\r\n"
    path = tmp_path / "u16.csv"
    # UTF-16 with a lone surrogate half after 30 good rows: the stream cannot be decoded past it.
    path.write_bytes(
        codecs.BOM_UTF16_LE + good.encode("utf-16-le") + b"\x00\xd8\x41\x00" + "x,1\r\n".encode("utf-16-le")
    )
    with _settings(True, IMPORT_BATCH_SIZE=10), translation.override("en"):
        job = importing.import_file(path, actor=org.rep, owner=org.rep)
    assert job.status == ImportJob.Status.FAILED
    assert "UTF-16" in job.message
