"""The batch writer's shared values reach the database as values: on PostgreSQL the JSON default
(qualification's empty list) is serialised once per batch for COPY, and must arrive as a JSON list,
not a string; the created rows are found again by their archive numbers (one array parameter)."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from yixiang.customers import importing
from yixiang.customers.models import Customer, CustomerChange, ImportJob
from yixiang.customers.tests.import_helpers import write_csv


def test_imported_rows_keep_their_json_default_and_history(org, tmp_path):
    rows = [["姓名", "电话"]] + [[f"客户{i}", f"1357777{i:04d}"] for i in range(12)]
    path = write_csv(tmp_path / "c.csv", rows)
    with override_settings(YIXIANG={**settings.YIXIANG, "IMPORT_BATCH_SIZE": 5}):
        job = importing.import_file(path, actor=org.admin, owner=None)
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 12)
    created = Customer.objects.filter(name__startswith="客户")
    assert list(created.values_list("qualification", flat=True).distinct()) == [[]]
    assert created.filter(qualification=[]).count() == 12
    changes = CustomerChange.objects.filter(customer__in=created, action=CustomerChange.Action.IMPORT)
    assert changes.count() == 12
    assert all(c.changes["name"][1] == c.customer.name for c in changes.select_related("customer"))
