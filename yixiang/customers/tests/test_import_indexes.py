"""What migrations 0007 and 0008 leave in the schema: the FTS insert trigger stands aside only while
the importer's pause row exists, and the two foreign keys another index starts with have no index
of their own, while that longer index is there to serve their lookups."""

from __future__ import annotations

import pytest
from django.db import connection


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: info["columns"] for name, info in found.items() if info["index"] and not info["primary_key"]}


@pytest.mark.django_db
def test_prefix_foreign_key_indexes_are_gone_and_their_longer_indexes_stay():
    customer = _indexes("customers_customer")
    assert ["owner_id"] not in customer.values()
    assert customer["customer_owner_stage"][0] == "owner_id"
    assert customer["customer_owner_due"][0] == "owner_id"
    change = _indexes("customers_customerchange")
    assert ["customer_id"] not in change.values()
    assert change["custchange_customer_at"][0] == "customer_id"


@pytest.mark.django_db
def test_sqlite_insert_trigger_waits_for_the_pause_row():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps trigram indexes, no trigger")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'customers_customer_fts_ai'")
        (sql,) = cursor.fetchone()
    assert "WHEN NOT EXISTS (SELECT 1 FROM customers_customer_fts_pause)" in sql
