"""Fast bulk writes into the real, migrated tables: executemany on SQLite, COPY on PostgreSQL.

A ``Sink`` hands batches to a writer thread with its own connection, so generating the next
batch in Python overlaps with the database storing the last one (the second core). Columns the
generator does not fill get the model field's default, so a field added to a model later with a
default does not break the generator; a new NOT NULL column without a default stops it loudly.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import CharField, Model, TextField


class SchemaDrift(RuntimeError):
    pass


def _column_default(field) -> Any:
    if field.has_default():
        value = field.get_default()
    elif field.null:
        value = None
    elif field.blank and isinstance(field, (CharField, TextField)):
        value = ""
    else:
        raise SchemaDrift(
            f"{field.model._meta.label}.{field.name} is NOT NULL without a default: teach bench/generate.py to fill it"
        )
    return field.get_db_prep_save(value, connection)


class Table:
    """Rows for one table; ``add`` takes the values of ``columns`` in order."""

    def __init__(self, sink: Sink, model: type[Model], columns: Sequence[str], batch: int):
        self.sink = sink
        self.name = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise SchemaDrift(f"{model._meta.label} has no column(s) {unknown}")
        rest = [f for c, f in fields.items() if c not in columns]
        self.columns = list(columns) + [f.column for f in rest]
        self.tail = tuple(_column_default(f) for f in rest)
        self.batch = batch
        self.rows: list[tuple] = []
        self.count = 0
        self.max_id = 0
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.name)
        if connection.vendor == "postgresql":
            self.sql = f"COPY {table} ({quoted}) FROM STDIN"
        else:
            marks = ", ".join("?" for _ in self.columns)
            self.sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"

    def add(self, row: tuple) -> None:
        self.rows.append(row + self.tail)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            rows, self.rows = self.rows, []
            self.count += len(rows)
            self.sink.put(self, rows)


class Sink:
    """Owns the writing connection. ``threaded=False`` writes through Django's own connection
    inside the caller's transaction (used by the tests); otherwise a writer thread opens its own
    connection, commits every ``commit_rows`` rows and relaxes durability while it loads."""

    def __init__(self, *, threaded: bool = True, batch: int = 20_000, commit_rows: int = 2_000_000):
        self.vendor = connection.vendor
        self.threaded = threaded
        self.batch = batch
        self.commit_rows = commit_rows
        self.tables: list[Table] = []
        self.error: BaseException | None = None
        self.written = 0
        self.db_seconds = 0.0
        if threaded:
            self.queue: queue.Queue = queue.Queue(maxsize=6)
            self.thread = threading.Thread(target=self._run, name="bench-writer", daemon=True)
            self.thread.start()

    def table(self, model: type[Model], columns: Sequence[str]) -> Table:
        t = Table(self, model, columns, self.batch)
        self.tables.append(t)
        return t

    def put(self, table: Table, rows: list[tuple]) -> None:
        if self.error is not None:
            raise RuntimeError("the writer thread failed") from self.error
        if self.threaded:
            self.queue.put((table, rows))
        else:
            with connection.cursor() as cur:
                self._write(cur.cursor if self.vendor == "postgresql" else cur, table, rows)

    def close(self) -> None:
        for t in self.tables:
            t.flush()
        if self.threaded:
            self.queue.put(None)
            self.thread.join()
            if self.error is not None:
                raise RuntimeError("the writer thread failed") from self.error

    # --- the writer ------------------------------------------------------------------------

    def _write(self, cur, table: Table, rows: list[tuple]) -> None:
        started = time.perf_counter()
        if self.vendor == "postgresql":
            with cur.copy(table.sql) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        else:
            cur.executemany(table.sql, rows)
        self.db_seconds += time.perf_counter() - started
        self.written += len(rows)

    def _connect(self) -> tuple[Any, Callable[[], None]]:
        settings_dict = connection.settings_dict
        if self.vendor == "postgresql":
            import psycopg

            conn = psycopg.connect(
                dbname=settings_dict["NAME"],
                user=settings_dict.get("USER") or None,
                password=settings_dict.get("PASSWORD") or None,
                host=settings_dict.get("HOST") or None,
                port=settings_dict.get("PORT") or None,
            )
            with conn.cursor() as cur:
                # Timestamps arrive as UTC text; FK triggers are skipped while loading (the
                # generator checks the references itself afterwards).
                cur.execute("SET TIME ZONE 'UTC'")
                cur.execute("SET session_replication_role = replica")
                cur.execute("SET synchronous_commit = off")
                cur.execute("SET maintenance_work_mem = '256MB'")
            return conn, conn.commit
        conn = sqlite3.connect(str(settings_dict["NAME"]), isolation_level=None, check_same_thread=False)
        for pragma in (
            "PRAGMA journal_mode=OFF",
            "PRAGMA synchronous=OFF",
            "PRAGMA foreign_keys=OFF",
            "PRAGMA cache_size=-1000000",
            "PRAGMA temp_store=MEMORY",
        ):
            conn.execute(pragma)
        conn.execute("BEGIN")

        def commit() -> None:
            conn.execute("COMMIT")
            conn.execute("BEGIN")

        return conn, commit

    def _run(self) -> None:
        conn = None
        try:
            conn, commit = self._connect()
            cur = conn.cursor()
            since = 0
            while True:
                item = self.queue.get()
                if item is None:
                    break
                table, rows = item
                self._write(cur, table, rows)
                since += len(rows)
                if since >= self.commit_rows:
                    commit()
                    since = 0
            if self.vendor == "postgresql":
                conn.commit()
            else:
                conn.execute("COMMIT")
                conn.execute("PRAGMA journal_mode=WAL")
        except BaseException as exc:  # reported to the generating thread on its next put
            self.error = exc
            while True:  # unblock the producer
                try:
                    if self.queue.get_nowait() is None:
                        break
                except queue.Empty:
                    time.sleep(0.05)
        finally:
            if conn is not None:
                conn.close()
