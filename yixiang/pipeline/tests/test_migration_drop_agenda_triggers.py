"""Migration 0006 removes the agenda cache's counter triggers from a database that had them, and
leaves the search triggers (FTS5 on SQLite) alone: a follow-up insert then writes no counter."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db
m0006 = importlib.import_module("yixiang.pipeline.migrations.0006_drop_agenda_version")


def trigger_names() -> set[str]:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {r[0] for r in cur.fetchall()}


def make_old_trigger(name: str, table: str) -> None:
    # What an older 0005 left behind: a trigger (and on PostgreSQL its function) per name.
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
            cur.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
        else:
            cur.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} FOR EACH ROW BEGIN SELECT 1; END")


def test_a_migrated_database_has_no_agenda_triggers_and_keeps_the_search_ones():
    names = trigger_names()
    assert not {n for n in names if n.startswith("agv_")}
    if connection.vendor == "sqlite":
        assert {"customers_customer_fts_ai", "customers_customer_fts_ad", "customers_customer_fts_au"} <= names


def test_the_migration_drops_all_21_old_triggers_and_their_functions():
    assert len(m0006.TRIGGERS) == 21
    for name, table in m0006.TRIGGERS:
        make_old_trigger(name, table)
    assert {n for n, _ in m0006.TRIGGERS} <= trigger_names()
    before = trigger_names() - {n for n, _ in m0006.TRIGGERS}
    m0006.drop_triggers(None, connection.schema_editor())
    assert trigger_names() == before
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'agv\\_%%'")
            assert cur.fetchone()[0] == 0
