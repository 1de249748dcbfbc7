# Issue 17: the importer fills the SQLite trigram table once per batch instead of per row.
#
# Per row, the insert trigger cost ~70 % of a bare insert into customers_customer (20,000 rows at
# 100k customers: 1.58 s CPU with the trigger, 0.46 s without it and one INSERT … SELECT into the
# FTS table per 2,000 rows, 2026-12-02). The trigger stays for every other writer; it now stands
# aside while customers_customer_fts_pause holds a row. Only the importer writes that row, inside
# its batch's transaction, and removes it before the commit (SQLite has one writer at a time, so
# no other connection ever sees it), after copying the batch's rows into the FTS table itself.
# PostgreSQL keeps its trigram indexes: nothing to do there.

from django.db import migrations

FTS = "customers_customer_fts"
PAUSE = "customers_customer_fts_pause"

_TRIGGER = """CREATE TRIGGER customers_customer_fts_ai AFTER INSERT ON customers_customer{when} BEGIN
  INSERT INTO {fts}(rowid, phone_normalized, name, company_name)
  VALUES (new.id, new.phone_normalized, new.name, new.company_name);
END"""

SQLITE_UP = [
    f"CREATE TABLE {PAUSE} (paused integer NOT NULL)",
    "DROP TRIGGER IF EXISTS customers_customer_fts_ai",
    _TRIGGER.format(when=f" WHEN NOT EXISTS (SELECT 1 FROM {PAUSE})", fts=FTS),  # noqa: S608 (constants)
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_ai",
    _TRIGGER.format(when="", fts=FTS),
    f"DROP TABLE IF EXISTS {PAUSE}",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_search_indexes_cover_the_id")]

    operations = [migrations.RunPython(_run(SQLITE_UP), _run(SQLITE_DOWN))]
