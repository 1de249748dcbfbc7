"""Imported customers are found by substring search right away: on SQLite the importer fills the
trigram table once per batch (its insert trigger paused for the batch, migration customers 0007),
on PostgreSQL the trigram indexes keep themselves. Customers written any other way still go in
through the trigger, and the pause never outlives a batch, even one that fails."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from yixiang.customers import import_writer, importing, services
from yixiang.customers.models import Customer, ImportJob
from yixiang.customers.selectors import search_condition
from yixiang.customers.tests.import_helpers import write_csv

HEADER = ["姓名", "电话", "公司", "城市"]


def _found(q: str) -> set[str]:
    return set(Customer.objects.filter(search_condition(q)).values_list("name", flat=True))


def _paused_rows() -> int:
    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM customers_customer_fts_pause")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "parsing-process"])
def test_imported_customers_are_found_by_substring(org, tmp_path, parallel):
    rows = [HEADER] + [[f"客户{i}", f"1371234{i:04d}", f"星辰{i}号科技", "上海"] for i in range(25)]
    rows.append(["无电话", "", "月亮湾贸易", "上海"])
    path = write_csv(tmp_path / "c.csv", rows)
    with override_settings(
        YIXIANG={**settings.YIXIANG, "IMPORT_BATCH_SIZE": 7, "IMPORT_PARALLEL_MIN_ROWS": 1 if parallel else 10**9}
    ):
        job = importing.import_file(path, actor=org.admin, owner=None)
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 26)
    # Phone digits inside the number (5+ digits: 3-4 digits are the number's end, customer_phone_tail).
    assert _found("71234") == {f"客户{i}" for i in range(25)}
    assert _found("12340017") == {"客户17"}
    assert _found("3号科技") == {"客户3", "客户13", "客户23"}  # inside the company name
    assert _found("亮湾贸") == {"无电话"}
    assert _paused_rows() == 0
    # A customer created by hand afterwards is indexed by the trigger as before.
    services.customer_create(data={"name": "手工录入", "phone": "13998765432"}, actor=org.admin)
    assert _found("98765") == {"手工录入"}


def test_a_failed_batch_leaves_no_pause_and_its_good_rows_are_found(org, tmp_path, monkeypatch):
    """A batch the database refuses is retried row by row (each row in its own savepoint): the good
    rows are indexed, the refused one is reported, and the trigger is live again afterwards."""
    rows = [HEADER] + [[f"客户{i}", f"1365555{i:04d}", "", ""] for i in range(6)]
    path = write_csv(tmp_path / "c.csv", rows)
    real_index = import_writer._index_for_search

    def index(ids):  # refuses any batch holding 客户3, after the pause and the insert
        if Customer.objects.filter(pk__in=ids, name="客户3").exists():
            raise import_writer.IntegrityError("refused for the test")
        real_index(ids)

    monkeypatch.setattr(import_writer, "_index_for_search", index)
    monkeypatch.setattr(import_writer.ImportRun, "_taken_meanwhile", lambda self, row: None)
    with override_settings(YIXIANG={**settings.YIXIANG, "IMPORT_BATCH_SIZE": 10, "IMPORT_PARALLEL_MIN_ROWS": 10**9}):
        job = importing.import_file(path, actor=org.admin, owner=None)
    assert (job.created_count, job.error_count) == (5, 1)
    assert _found("65555") == {f"客户{i}" for i in (0, 1, 2, 4, 5)}  # 5+ digits: a substring
    assert _paused_rows() == 0
    services.customer_create(data={"name": "手工录入", "phone": "13998765432"}, actor=org.admin)
    assert _found("98765") == {"手工录入"}
