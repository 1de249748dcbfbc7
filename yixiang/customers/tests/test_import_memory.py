"""Import memory stays flat as files grow (issue 8: a 200 MB file with bounded memory).

The sizes are reduced for the suite; the ratio between a small and a ten times bigger file is what
is checked, so it holds for any size."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pytest
from django.conf import settings
from django.test import override_settings

from yixiang.customers import import_files, importing, uploads
from yixiang.customers.models import Customer
from yixiang.customers.tests.import_helpers import write_csv

SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜敏静丽强磊军洋"


def _rows(n: int, start: int) -> list[list[str]]:
    rows = [["姓名", "手机", "城市", "标签", "备注", "生日"]]
    for i in range(start, start + n):
        name = SURNAMES[i % 10] + GIVEN[(i // 10) % 10]
        bad = i % 10 == 0  # 10% bad rows, as in issue 8
        phone = "bad" if bad else f"1{3 + i % 7}{i:09d}"
        rows.append(
            [name, phone, "北京", "VIP", "备注" * 10, (dt.date(1970, 1, 1) + dt.timedelta(days=i % 9000)).isoformat()]
        )
    return rows


def _peak(path, user) -> int:
    tracemalloc.start()
    try:
        job = importing.import_file(path, actor=user, owner=user)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.error_count == job.processed_rows // 10
    return peak


@pytest.mark.slow
def test_memory_does_not_grow_with_the_file(org, tmp_path, monkeypatch):
    # Reading buffers are a constant 1 MB; shrink them so both test files are bigger than them.
    monkeypatch.setattr(import_files, "_SAMPLE_BYTES", 32 * 1024)
    monkeypatch.setattr(import_files, "_READ_CHUNK", 32 * 1024)
    monkeypatch.setattr(uploads, "_CHUNK", 32 * 1024)  # the upload gate counts lines in chunks too
    with override_settings(YIXIANG={**settings.YIXIANG, "IMPORT_BATCH_SIZE": 500, "IMPORT_MAX_STORED_ERRORS": 100}):
        small = _peak(write_csv(tmp_path / "small.csv", _rows(1_000, 0)), org.rep)
        big = _peak(write_csv(tmp_path / "big.csv", _rows(10_000, 1_000)), org.rep)
    assert Customer.objects.count() == 11_000 - 1_100
    assert big < small * 1.3, (small, big)
