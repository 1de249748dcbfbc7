"""The import's dedupe lookup probes the unique phone index — on PostgreSQL never the search's
trigram index (issue 17: an IN list of a batch's 2,000 phones went to customer_trgm_phone, whose
common trigrams match every row: 111 s per batch against 100k customers)."""

from __future__ import annotations

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yixiang.customers import importing
from yixiang.customers.tests.import_helpers import write_csv


def test_the_dedupe_query_probes_the_unique_phone_index(org, tmp_path):
    rows = [["姓名", "电话"]] + [[f"客户{i}", f"138{i:08d}"] for i in range(2000)]
    path = write_csv(tmp_path / "many.csv", rows)
    with CaptureQueriesContext(connection) as ctx:
        job = importing.import_file(path, actor=org.admin, owner=None)
    assert job.created_count == 2000
    lookups = [
        q["sql"]
        for q in ctx.captured_queries
        if "phone_normalized" in q["sql"] and q["sql"].lstrip().startswith("SELECT")
    ]
    assert lookups, "no dedupe query seen"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Seq scans off: on a test-sized table they win; the question is which index a big table gets.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + lookups[0])
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + lookups[0])
        plan = "\n".join(str(r[-1]) for r in cursor.fetchall())
    assert "customer_trgm_phone" not in plan and "customer_unique_phone" in plan, plan
