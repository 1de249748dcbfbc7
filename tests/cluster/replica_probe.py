"""Run by test_replica.py in a subprocess whose DATABASE_URL is a fresh primary and whose
DATABASE_REPLICA_URL is its streaming replica (migrated): prints what each read path saw."""

from __future__ import annotations

import contextvars
import json
import time

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from yixiang.customers import exporting, selectors  # noqa: E402
from yixiang.reports import selectors as reports  # noqa: E402
from yixiang.testing import ApiClient, make_org  # noqa: E402

out: dict = {}


def fresh(fn, *args):
    """As a new request would: its own context, nothing written yet."""
    return contextvars.Context().run(fn, *args)


def replica_sql(sql: str):
    with connections["replica"].cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def exported_rows(user) -> int:
    return exporting.export_customers(user=user, fmt="csv").rows


org = make_org()
org.customer(org.rep, "甲")
deadline = time.monotonic() + 30
while replica_sql("SELECT count(*) FROM customers_customer") < 1:  # caught up
    assert time.monotonic() < deadline, "the replica never caught up"
    time.sleep(0.1)
out["in_recovery"] = replica_sql("SELECT pg_is_in_recovery()")
replica_sql("SELECT pg_wal_replay_pause()")  # the replica now lags: it keeps showing one customer
time.sleep(0.3)


def write_then_export() -> tuple[int, int]:
    org.customer(org.rep, "乙")  # the user's own write in this request...
    return exported_rows(org.rep), selectors.customer_list(fetched_by=org.rep).count()


out["own_write_then_export"] = fresh(write_then_export)  # ...is in their export: the primary
out["export_fresh"] = fresh(exported_rows, org.rep)  # the replica (paused: one customer)
out["list_fresh"] = fresh(lambda: selectors.customer_list(fetched_by=org.rep).count())  # primary


def report_queries() -> dict[str, int]:
    counts = {"default": 0, "replica": 0}

    def counter(alias):
        def wrap(execute, sql, params, many, context):
            counts[alias] += 1
            return execute(sql, params, many, context)

        return wrap

    with connections["default"].execute_wrapper(counter("default")):
        with connections["replica"].execute_wrapper(counter("replica")):
            reports.funnel(user=org.director, f=reports.ReportFilters.default())
    return counts


out["funnel_queries"] = fresh(report_queries)

# The web: a plain GET export reads the replica; a POST sets the pin cookie; with it, the primary.
client = Client()
client.force_login(org.rep)
out["web_export"] = fresh(lambda: client.get("/customers/export/?format=csv").getvalue().decode().count("\n") - 1)
r = fresh(lambda: client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}))
out["pin_cookie"] = r.cookies["yx_primary"]["max-age"]
out["web_export_pinned"] = fresh(
    lambda: client.get("/customers/export/?format=csv").getvalue().decode().count("\n") - 1
)

# The API (bearer tokens, no cookies kept): an export writes its audit row, so the same user's next
# request, on any node, reads the primary for a while (pin under the user's id in the cache).
lead_api = ApiClient(org.lead1)


def api_export() -> int:
    lead_api.client.cookies.clear()
    body = lead_api.get("/api/v1/exports/customers", format="csv").getvalue().decode()
    return body.count("\n") - 1


fresh(lambda: lead_api.get("/api/v1/agenda"))  # the token's first use writes its last_used_at...
time.sleep(settings.REPLICA_PIN_SECONDS + 0.5)  # ...and that pin runs out
out["api_export_first"] = fresh(api_export)
out["api_export_next"] = fresh(api_export)

replica_sql("SELECT pg_wal_replay_resume()")
deadline = time.monotonic() + 30
while replica_sql("SELECT count(*) FROM customers_customer") < 2:
    assert time.monotonic() < deadline, "the replica never caught up after resuming"
    time.sleep(0.1)
out["export_after_catch_up"] = fresh(exported_rows, org.rep)
print("PROBE " + json.dumps(out))
