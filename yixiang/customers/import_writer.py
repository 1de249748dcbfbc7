"""Writing an import: batches of checked rows into the archive, a job's progress, its summary.

Rows are streamed and handled in batches of ``IMPORT_BATCH_SIZE``: one query finds a batch's
existing customers, archive numbers are reserved per batch, and each table gets one bulk write per
batch inside one transaction, which also advances the job's progress, so an interrupted job resumes
after its last committed batch. If a batch fails unexpectedly it is retried row by row, so one bad
row never takes good rows with it. Keys already seen in the file live in a temporary on-disk SQLite
table, so memory does not grow with the file (test_import_memory pins that).

Measured to stay (20k rows into 100k customers, SQLite, interleaved, 2026-12-02, load 7-17): the raw
batch writer 1,232 rows/s vs ``bulk_create`` 321; a forked parsing process 1,342 vs 1,232 in-process."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import multiprocessing
import os
import queue
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yixiang.accounts.models import AuditAction, User
from yixiang.accounts.services import audit
from yixiang.customers import services, uploads
from yixiang.customers.columns import CHOICE_MAPS, bool_label, choice_label, stage_label
from yixiang.customers.import_files import ImportFileError, RawRow, Sheet, conf, file_error, open_sheet
from yixiang.customers.import_rows import Prepared, RowError, RowParser
from yixiang.customers.models import Customer, CustomerChange, ImportJob, Tag
from yixiang.customers.scoping import visible_customers


class _SeenKeys:
    """Dedupe keys of the rows already taken from this file, with their line. Kept in a private
    temporary on-disk SQLite database, so a file of millions of rows does not fill the memory."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = temporary database on disk, removed on close
        self.db.execute("CREATE TABLE seen (k TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def find(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT k, line FROM seen WHERE k IN ({marks})", chunk))  # noqa: S608 (placeholders only)
        return found

    def add(self, pairs: Iterable[tuple[str, int]]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pairs)

    def close(self) -> None:
        self.db.close()


_PLAIN_FIELD_TYPES = {
    models.CharField,
    models.TextField,
    models.EmailField,
    models.BooleanField,
    models.IntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.BigIntegerField,
    models.ForeignKey,
}


class _DatePrep:
    """A date column's value for the database without the field's generic chain (to_python, prep,
    adapt: a fifth of the writer's per-row conversion cost); imported dates are always dates."""

    @staticmethod
    def get_db_prep_save(value: Any, conn: Any) -> Any:
        return conn.ops.adapt_datefield_value(value)


class _TableWriter:
    """One INSERT per table and batch, every concrete column listed.

    Django's bulk_create prepares every field of every object through the model machinery, several
    times the cost per row of this: here the batch's shared values are converted once, and a row
    converts only the values it sets, only for the field types that need it (dates, decimals, JSON,
    encrypted text). SQLite runs one prepared statement over the rows (``executemany``); PostgreSQL
    takes them through COPY."""

    def __init__(self, model: type[models.Model]):
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.fields)
        self.head = f"INSERT INTO {qn(model._meta.db_table)} ({columns})"  # noqa: S608 (model metadata only)
        self.copy_sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"
        self.marks = ", ".join(["%s"] * len(self.fields))
        self.prep = [
            None if type(f) in _PLAIN_FIELD_TYPES else _DatePrep if type(f) is models.DateField else f
            for f in self.fields
        ]

    def defaults(self) -> dict[str, Any]:
        return {f.attname: f.get_default() for f in self.fields}

    def insert(self, base: dict[str, Any], rows: list[dict[str, Any]], *, raw: frozenset[str] = frozenset()) -> None:
        """Insert one row per dict in ``rows``; columns a row does not name take ``base``'s value.
        Columns in ``raw`` hold values ready for the database (JSON already serialised)."""
        if not rows:
            return
        conn = connections[DEFAULT_DB_ALIAS]
        template = [
            base.get(f.attname) if prep is None else prep.get_db_prep_save(base.get(f.attname), conn)
            for f, prep in zip(self.fields, self.prep, strict=True)
        ]
        if conn.vendor == "postgresql":
            # A JSON default (qualification's []) as text, once: psycopg would serialise the shared
            # adapter again for every row COPY writes (~9 % of the writer's CPU there, 2026-12-02).
            for i, f in enumerate(self.fields):
                if isinstance(f, models.JSONField) and template[i] is not None:
                    template[i] = json.dumps(base.get(f.attname), cls=f.encoder)
        index, preps = self.index, self.prep
        # Rows of one file mostly name the same columns in the same order: the (position, converter)
        # list is worked out once per such shape, not once per value.
        shapes: dict[tuple[str, ...], tuple[list[int], list[tuple[int, Any]]]] = {}
        params = []
        for row in rows:
            shape = tuple(row)
            plan = shapes.get(shape)
            if plan is None:
                plan = shapes[shape] = (
                    [index[a] for a in shape],
                    [(n, preps[index[a]]) for n, a in enumerate(shape) if preps[index[a]] is not None and a not in raw],
                )
            values = template.copy()
            row_values = list(row.values())
            for n, prep in plan[1]:
                if row_values[n] is not None:
                    row_values[n] = prep.get_db_prep_save(row_values[n], conn)
            for i, value in zip(plan[0], row_values, strict=True):
                values[i] = value
            params.append(values)
        with conn.cursor() as cursor:
            if conn.vendor == "postgresql":
                # COPY: several times cheaper than INSERT there, and the same transaction rules.
                with conn.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(f"{self.head} VALUES ({self.marks})", params)


# SQLite's trigram table (customers_customer_fts) is kept by an insert trigger, which costs ~70 % of
# a bare insert into the customer table when it fires per row; the importer pauses it for its batch
# and fills the table with one INSERT … SELECT (migration customers 0007 says why and how much).
_FTS = "customers_customer_fts"
_FTS_PAUSE = "customers_customer_fts_pause"


@contextlib.contextmanager
def _search_index_per_batch() -> Iterator[None]:
    """Pause the per-row FTS trigger for this batch (SQLite; a no-op on PostgreSQL). Runs inside the
    batch's transaction (or a row's savepoint): if the body fails, the pause row goes with the
    rollback, so no committed state ever has it."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {_FTS_PAUSE} (paused) VALUES (1)")  # noqa: S608 (constant)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_FTS_PAUSE}")  # noqa: S608 (constant)


def _index_for_search(ids: list[int]) -> None:
    """Add the given new customers to SQLite's trigram table, in one statement."""
    if connection.vendor != "sqlite" or not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_FTS}(rowid, phone_normalized, name, company_name) "  # noqa: S608 (constants)
            "SELECT id, phone_normalized, name, company_name FROM customers_customer "
            "WHERE id IN (SELECT value FROM json_each(%s))",
            [json.dumps(ids)],
        )


# History rows (one per created customer): compact, and Chinese kept as is rather than \u-escaped,
# so a million of them take less room; every value there is already text, a list or None.
_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# Stage judgments of imported rows: the pipeline app, which owns StageChange and sits above this
# one, registers the writer (pipeline.apps). Called inside the batch's transaction with
# (customer id, stage, owner id) per row that named a stage, the importer and the moment.
StageRecorder = Callable[[list[tuple[int, int, int | None]], int, dt.datetime], None]
_stage_recorders: list[StageRecorder] = []


def register_stage_recorder(recorder: StageRecorder) -> None:
    if recorder not in _stage_recorders:
        _stage_recorders.append(recorder)


class Superseded(Exception):
    """Another runner committed this job's next batch first (a duplicate resume): stop quietly."""


@dataclass
class _Outcome:
    rows: int
    created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PROGRESS_FIELDS = ["processed_rows", "created_count", "skipped_count", "error_count", "errors", "total_rows"]


@dataclass
class _Parsed:
    """A batch of rows, parsed: the good ones and the line-numbered errors."""

    rows: int  # rows read, good or not
    prepared: list[Prepared]
    errors: list[tuple[int, str]]
    last_line: int  # the file's last line read so far


def _parse_batches(rows: Iterator[RawRow], parser: RowParser, skip: int, size: int) -> Iterator[_Parsed]:
    """Parsed batches of ``size`` rows after the first ``skip``; the last one may be empty (it
    carries the file's last line)."""
    batch: list[RawRow] = []
    last_line = 0
    for raw in rows:
        last_line = raw.line
        if skip:
            skip -= 1
            continue
        batch.append(raw)
        if len(batch) >= size:
            yield _parse_batch(parser, batch, last_line)
            batch = []
    yield _parse_batch(parser, batch, last_line)


def _parse_batch(parser: RowParser, raws: list[RawRow], last_line: int) -> _Parsed:
    parser.today = timezone.localdate()
    out = _Parsed(rows=len(raws), prepared=[], errors=[], last_line=last_line)
    parse, good, errors = parser.parse, out.prepared.append, out.errors.append
    for raw in raws:
        try:
            good(parse(raw))
        except RowError as exc:
            errors((raw.line, exc.message))
    return out


# Reading and checking rows is about a third of an import's work, and independent of the
# database: big files are parsed in a forked child (it inherits the open file, the parser and the
# active language, and never touches the database) while this process writes. A bounded queue
# keeps at most a few batches in flight, so memory stays flat.
_QUEUE_BATCHES = 3


def _parse_in_child(rows: Iterator[RawRow], parser: RowParser, skip: int, size: int) -> Iterator[_Parsed]:
    ctx = multiprocessing.get_context("fork")
    channel = ctx.Queue(maxsize=_QUEUE_BATCHES)
    child = ctx.Process(target=_child_parse, args=(rows, parser, skip, size, channel, os.getpid()), daemon=False)
    child.start()
    try:
        while True:
            try:
                msg = channel.get(timeout=2)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the import's parsing process ended unexpectedly ({child.exitcode})") from None
                continue
            if msg[0] == "file_error":
                raise file_error(msg[1])
            if msg[0] == "crash":
                raise RuntimeError(f"the import's parsing process failed: {msg[1]}")
            _kind, n, packed, errors, last_line = msg
            yield _Parsed(rows=n, prepared=[Prepared(*p) for p in packed], errors=errors, last_line=last_line)
            if msg[0] == "last":
                return
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        channel.close()
        channel.cancel_join_thread()


def _child_parse(rows: Iterator[RawRow], parser: RowParser, skip: int, size: int, channel: Any, parent: int) -> None:
    def send(msg: tuple[Any, ...]) -> None:
        while True:
            try:
                channel.put(msg, timeout=1)
                return
            except queue.Full:
                if os.getppid() != parent:  # the writer was killed: nobody will read this
                    os._exit(1)

    try:
        chunks = _parse_batches(rows, parser, skip, size)
        chunk = next(chunks)
        for following in chunks:
            send(("batch", *_pack(chunk)))
            chunk = following
        send(("last", *_pack(chunk)))
    except ImportFileError as exc:
        send(("file_error", exc.message))
    except Exception as exc:  # reported by the writer, which fails the job as for any error
        send(("crash", f"{type(exc).__name__}: {exc}"))
    channel.close()
    channel.join_thread()


def _pack(chunk: _Parsed) -> tuple[Any, ...]:
    # Plain tuples pickle faster than dataclasses.
    packed = [(p.line, p.data, p.tags, p.key, p.has_phone, p.history, p.refused) for p in chunk.prepared]
    return chunk.rows, packed, chunk.errors, chunk.last_line


class ImportRun:
    def __init__(self, job: ImportJob, progress: Callable[[ImportJob], None] | None):
        self.job = job
        self.actor = job.created_by
        self.owner = job.owner
        self.progress = progress
        self.batch_size = max(int(conf("IMPORT_BATCH_SIZE")), 1)
        self.max_entries = int(conf("IMPORT_MAX_STORED_ERRORS"))
        self.pending_warnings: list[tuple[int, str]] = []
        self.seen = _SeenKeys()
        self.customers = _TableWriter(Customer)
        self.changes = _TableWriter(CustomerChange)
        self.links = _TableWriter(Customer.tags.through)
        self.parser: RowParser | None = None

    def execute(self) -> None:
        try:
            with open_sheet(self.job.file_path) as sheet:
                self.parser = RowParser(sheet.header, kind=sheet.kind, encoding=sheet.encoding, actor=self.actor)
                if self.job.processed_rows == 0:
                    notes = [*sheet.notes, *self.parser.warnings()]
                    self.pending_warnings = [(sheet.header_line, n) for n in notes]
                    self.job.total_rows = sheet.estimated_rows
                    ImportJob.objects.filter(pk=self.job.pk).update(total_rows=sheet.estimated_rows)
                if self.progress:
                    self.progress(self.job)
                skip = self.job.processed_rows  # a resumed job continues after its last committed batch
                if self._parallel(sheet):
                    chunks = _parse_in_child(sheet.rows, self.parser, skip, self.batch_size)
                else:
                    chunks = _parse_batches(sheet.rows, self.parser, skip, self.batch_size)
                last_line = 0
                try:
                    for chunk in chunks:
                        last_line = chunk.last_line
                        if chunk.rows:
                            self._batch(chunk)
                finally:
                    chunks.close()  # stops the parsing process if this one stops early
                if sheet.unterminated and last_line:
                    self.pending_warnings.append(
                        (
                            last_line,
                            _(
                                "The file does not end with a line break, so it may have been cut off: check line %(line)s."
                            )
                            % {"line": last_line},
                        )
                    )
                if self.pending_warnings:  # a file without data rows
                    self._commit(_Outcome(rows=0), [])
            self._finish()
        finally:
            self.seen.close()

    # -- one batch

    def _parallel(self, sheet: Sheet) -> bool:
        return (
            sheet.estimated_rows - self.job.processed_rows >= int(conf("IMPORT_PARALLEL_MIN_ROWS"))
            and (os.cpu_count() or 1) > 1
            and "fork" in multiprocessing.get_all_start_methods()
        )

    def _batch(self, chunk: _Parsed) -> None:
        outcome = _Outcome(rows=chunk.rows, errors=chunk.errors)
        in_batch: dict[str, int] = {}
        prepared: list[Prepared] = []
        for row in chunk.prepared:
            first = in_batch.get(row.key)
            if first is not None:
                outcome.skipped.append((row.line, self._same_as_line(row, first)))
                continue
            in_batch[row.key] = row.line
            prepared.append(row)
        earlier = self.seen.find(list(in_batch))
        if earlier:
            kept = []
            for row in prepared:
                if row.key in earlier:
                    outcome.skipped.append((row.line, self._same_as_line(row, earlier[row.key])))
                else:
                    kept.append(row)
            prepared = kept
        self.seen.add((row.key, row.line) for row in prepared)
        prepared = self._drop_existing(prepared, outcome)
        if any(row.refused for row in prepared):
            outcome.errors.extend((row.line, row.refused) for row in prepared if row.refused)
            outcome.errors.sort()
            prepared = [row for row in prepared if not row.refused]
        if self.job.dry_run:
            outcome.created = len(prepared)
            prepared = []
        self._commit(outcome, prepared)
        if self.progress:
            self.progress(self.job)

    @staticmethod
    def _same_as_line(row: Prepared, line: int) -> str:
        if row.has_phone:
            return _("Same phone number as line %(line)s of this file.") % {"line": line}
        return _("Same name, company and city as line %(line)s of this file.") % {"line": line}

    def _drop_existing(self, prepared: list[Prepared], outcome: _Outcome) -> list[Prepared]:
        """Skips rows whose customer is already in the archive: one query per kind of key."""
        existing: dict[str, tuple[int, str, str, bool]] = {}
        phones = [r.key for r in prepared if r.has_phone]
        if phones:
            # Raw SQL: the ORM prepares each value of a 2,000-long IN list one by one.
            q = connection.ops.quote_name
            sql = (
                f"SELECT {q('id')}, {q('phone_normalized')}, {q('archive_no')}, {q('name')}, {q('deleted_at')} "  # noqa: S608 (model metadata only)
                f"FROM {q(Customer._meta.db_table)} WHERE {q('phone_normalized')} IN "
            )
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # One index probe per key. A plain IN list makes PostgreSQL's planner pick the
                    # trigram index (search's customer_trgm_phone), whose common trigrams ('+86',
                    # '861' …) match every row: 111 s for one 2,000-row batch against 100k
                    # customers, against 56 ms here (EXPLAIN ANALYZE, 2026-12-02).
                    cursor.execute(
                        f"SELECT c.* FROM unnest(%s::varchar[]) AS k(phone) CROSS JOIN LATERAL ("  # noqa: S608 (model metadata only)
                        f"SELECT {q('id')}, {q('phone_normalized')}, {q('archive_no')}, {q('name')}, {q('deleted_at')} "
                        f"FROM {q(Customer._meta.db_table)} WHERE {q('phone_normalized')} = k.phone "
                        f"AND {q('phone_normalized')} IS NOT NULL LIMIT 1) AS c",
                        [phones],
                    )
                    rows = cursor.fetchall()
                else:
                    rows = []
                    for i in range(0, len(phones), 900):  # within SQLite's limit of variables
                        chunk = phones[i : i + 900]
                        cursor.execute(sql + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
                        rows.extend(cursor.fetchall())
                for pk, key, no, name, deleted in rows:
                    existing[key] = (pk, no, name, deleted is not None)
        phoneless = [r for r in prepared if not r.has_phone]
        if phoneless:
            names = {r.data["name"] for r in phoneless}
            # Names are indexed for live rows only (customer_live_name); the trash, small, is read
            # through its deleted_at index (a range, which "IS NOT NULL" is not to SQLite's planner).
            for part in (
                Customer.objects.filter(deleted_at__isnull=True),
                Customer.objects.filter(deleted_at__gt=_EPOCH),
            ):
                for pk, name, company, city, no, deleted in part.filter(name__in=names).values_list(
                    "pk", "name", "company_name", "city", "archive_no", "deleted_at"
                ):
                    key = "\x1f".join(("n", name.strip(), company.strip(), city.strip()))
                    existing.setdefault(key, (pk, no, name, deleted is not None))
        if not existing:
            return prepared
        hits = {r.key: existing[r.key] for r in prepared if r.key in existing}
        visible = set(
            visible_customers(self.actor, include_deleted=True)
            .filter(pk__in=[h[0] for h in hits.values()])
            .values_list("pk", flat=True)
        )
        kept = []
        hidden = 0
        for row in prepared:
            hit = hits.get(row.key)
            if hit is None:
                kept.append(row)
                continue
            pk, no, name, deleted = hit
            if pk not in visible:
                # Named by nothing (no archive number): the import is no oracle over other reps' customers.
                msg = _("Already in the archive as another rep's customer, which you cannot see.")
                hidden += 1
            elif deleted:
                msg = _("Already in the archive, in the trash: %(name)s (%(no)s).") % {"name": name, "no": no}
            else:
                msg = _("Already in the archive: %(name)s (%(no)s).") % {"name": name, "no": no}
            outcome.skipped.append((row.line, msg))
        if hidden:
            audit(
                self.actor,
                AuditAction.CUSTOMER_IMPORT_HIDDEN_DUPLICATES,
                target_type="import_job",
                target_id=str(self.job.pk),
                count=hidden,
            )
        return kept

    # -- committing

    def _claim_batch(self) -> None:
        state = (
            ImportJob.objects.select_for_update().filter(pk=self.job.pk).values_list("status", "processed_rows").first()
        )
        if state != (ImportJob.Status.RUNNING, self.job.processed_rows):
            raise Superseded

    def _commit(self, outcome: _Outcome, rows: list[Prepared]) -> None:
        try:
            with transaction.atomic():
                self._claim_batch()
                if rows:
                    outcome.created = self._insert(rows)
                self._save_progress(outcome)
            return
        except DatabaseError:
            if not rows:
                raise
        # Something in the batch was refused: forget the in-memory counts of the failed attempt
        # and go row by row, each row in its own savepoint.
        self.job.refresh_from_db()
        with transaction.atomic():
            self._claim_batch()
            outcome.created = 0
            for row in rows:
                try:
                    with transaction.atomic():
                        outcome.created += self._insert([row])
                except IntegrityError as exc:
                    taken = self._taken_meanwhile(row)
                    if taken:
                        outcome.skipped.append((row.line, taken))
                    else:
                        outcome.errors.append((row.line, self._db_refused(exc)))
                except DatabaseError as exc:
                    outcome.errors.append((row.line, self._db_refused(exc)))
            self._save_progress(outcome)

    def _taken_meanwhile(self, row: Prepared) -> str | None:
        if not row.has_phone:
            return None
        existing = Customer.objects.filter(phone_normalized=row.key).values_list("archive_no", flat=True).first()
        if existing is None:
            return None
        return _("Another user added this phone number meanwhile (record %(no)s).") % {"no": existing}

    @staticmethod
    def _db_refused(exc: Exception) -> str:
        return _("This row could not be saved (the database refused it: %(error)s).") % {
            "error": str(exc).splitlines()[0][:200]
        }

    def _save_progress(self, outcome: _Outcome) -> None:
        job = self.job
        job.processed_rows += outcome.rows
        job.created_count += outcome.created
        job.skipped_count += len(outcome.skipped)
        job.error_count += len(outcome.errors)
        entries = list(job.errors or [])
        stored = {"error": 0, "duplicate": 0, "warning": 0}
        for e in entries:
            stored[e.get("kind", "error")] = stored.get(e.get("kind", "error"), 0) + 1
        before = len(entries)
        for kind, items in (
            ("warning", self.pending_warnings),
            ("error", outcome.errors),
            ("duplicate", outcome.skipped),
        ):
            room = self.max_entries - stored[kind]
            entries.extend({"line": line, "reason": reason, "kind": kind} for line, reason in items[: max(room, 0)])
        self.pending_warnings = []
        fields = [f for f in _PROGRESS_FIELDS if f != "errors"]
        if len(entries) != before:
            job.errors = entries
            fields.append("errors")
        job.total_rows = max(job.total_rows, job.processed_rows)
        job.save(update_fields=fields)

    def _insert(self, rows: list[Prepared]) -> int:
        now = timezone.now()
        numbers = services.allocate_archive_numbers(len(rows))
        base = self.customers.defaults()
        owner_id = self.owner.pk if self.owner else None
        base.update(owner_id=owner_id, created_by_id=self.actor.pk, created_at=now, updated_at=now)
        customer_rows = []
        for row, number in zip(rows, numbers, strict=True):
            values = dict(row.data)
            values["archive_no"] = number
            customer_rows.append(values)
        with _search_index_per_batch():
            self.customers.insert(base, customer_rows)
            ids = self._ids_of(numbers)
            _index_for_search(list(ids.values()))
        tag_ids = self._tag_ids({t for row in rows for t in row.tags})
        if tag_ids:
            self.links.insert(
                {},
                [
                    {"customer_id": ids[number], "tag_id": tag_ids[t]}
                    for row, number in zip(rows, numbers, strict=True)
                    for t in row.tags
                ],
            )
        owner_label = self.owner.label if self.owner else None
        judged = [
            (ids[number], row.data["stage"], row.data.get("owner_id", owner_id))
            for row, number in zip(rows, numbers, strict=True)
            if "stage" in row.data
        ]
        if judged:
            for record in _stage_recorders:
                record(judged, self.actor.pk, now)
        dumps = _compact_json
        self.changes.insert(
            {"actor_id": self.actor.pk, "action": CustomerChange.Action.IMPORT, "at": now},
            [
                {"customer_id": ids[number], "changes": dumps(self._history(row, base, owner_label))}
                for row, number in zip(rows, numbers, strict=True)
            ],
            raw=frozenset({"changes"}),
        )
        return len(rows)

    def _history(self, row: Prepared, base: dict[str, Any], owner_label: str | None) -> dict[str, list[Any]]:
        """The history row's changes: customer_prepare's, with tags, owner and the file's line."""
        diff = dict(row.history)
        if row.tags:
            diff["tags"] = [[], row.tags]
        diff.setdefault("owner", [None, owner_label])  # the row's own owner column wins
        diff["import"] = [None, f"{self.job.file_name}:{row.line}"]
        return diff

    @staticmethod
    def _ids_of(numbers: list[str]) -> dict[str, int]:
        # Raw SQL: the ORM prepares each of a big IN list's values one by one.
        q = connection.ops.quote_name
        sql = f"SELECT {q('archive_no')}, {q('id')} FROM {q(Customer._meta.db_table)} WHERE {q('archive_no')} "  # noqa: S608 (model metadata only)
        ids: dict[str, int] = {}
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One array parameter: psycopg parses a query of 900 placeholders per call.
                cursor.execute(sql + "= ANY(%s::varchar[])", [numbers])
                ids.update(cursor.fetchall())
                return ids
            for i in range(0, len(numbers), 900):  # within SQLite's limit of variables
                chunk = numbers[i : i + 900]
                cursor.execute(sql + "IN (" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
                ids.update(cursor.fetchall())
        return ids

    @staticmethod
    def _tag_ids(names: set[str]) -> dict[str, int]:
        if not names:
            return {}
        ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        missing = names - ids.keys()
        if missing:
            Tag.objects.bulk_create([Tag(name=n) for n in sorted(missing)], ignore_conflicts=True)
            ids.update(Tag.objects.filter(name__in=missing).values_list("name", "pk"))
        return ids

    def _finish(self) -> None:
        job = self.job
        job.status = ImportJob.Status.DONE
        job.finished_at = timezone.now()
        job.total_rows = job.processed_rows
        job.message = job_summary(job)
        done = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.RUNNING, processed_rows=job.processed_rows
        ).update(status=job.status, finished_at=job.finished_at, total_rows=job.total_rows, message=job.message)
        if not done:
            raise Superseded
        if job.dry_run and job.created_count > 0:
            # Kept on the job so the job page never opens the file again (a heavy file cost each
            # view seconds and a gigabyte before, in the web process).
            shown = preview(job.file_path, actor=job.created_by)
            job.preview = {"columns": shown.columns, "rows": shown.rows}
            ImportJob.objects.filter(pk=job.pk).update(preview=job.preview)
        audit_job(job)
        if not job.dry_run:
            remove_upload(job)


def job_summary(job: ImportJob) -> str:
    params = {"rows": job.processed_rows, "created": job.created_count, "skipped": job.skipped_count}
    params["errors"] = job.error_count
    if job.dry_run:
        text = _(
            "Dry run: %(rows)s rows read; %(created)s would be created, %(skipped)s duplicates skipped, "
            "%(errors)s rows with errors. Nothing was saved."
        )
    elif job.kind == ImportJob.Kind.CUSTOMERS:
        text = _(
            "%(rows)s rows read; %(created)s customers created, %(skipped)s duplicates skipped, "
            "%(errors)s rows with errors."
        )
    else:
        text = _(
            "%(rows)s rows read; %(created)s rows of history recorded, %(skipped)s already there, "
            "%(errors)s rows with errors."
        )
    out = text % params
    if job.processed_rows == 0:
        out += " " + _("The file has a header but no data rows.")
    return out


@dataclass
class Preview:
    columns: list[tuple[str, str]]  # (field, header in the file)
    rows: list[tuple[int, list[tuple[str, str]], str]]  # (line, [(header, value)] per column, error)


def preview(path: str | Path, *, limit: int | None = None, actor: User | None = None) -> Preview:
    """The first rows as the import will read them, for the page before the real import."""
    limit = limit or conf("IMPORT_PREVIEW_ROWS")
    with open_sheet(path) as sheet:
        parser = RowParser(sheet.header, kind=sheet.kind, encoding=sheet.encoding, actor=actor)
        columns = parser.mapped_columns()
        rows: list[tuple[int, list[tuple[str, str]], str]] = []
        for raw in itertools.islice(sheet.rows, limit):
            try:
                row = parser.parse(raw)
            except RowError as exc:
                rows.append((raw.line, [], exc.message))
                continue
            if row.refused:
                rows.append((row.line, [], row.refused))
                continue
            rows.append((row.line, [(h, _preview_value(parser, row, f)) for f, h in columns], ""))
    return Preview(columns=columns, rows=rows)


def _preview_value(parser: RowParser, row: Prepared, fname: str) -> str:
    if fname == "tags":
        return "、".join(row.tags)
    if fname == "region":
        return parser.region_names.get(row.data.get("region_id"), "")
    if fname == "owner":
        return row.history.get("owner", [None, ""])[1] or str(_("Public pool"))
    if fname == "stage":
        return stage_label(row.data["stage"], chinese=parser.chinese) if "stage" in row.data else ""
    value = row.data.get(fname)
    if value is None:
        return ""
    if fname in services.SENSITIVE_FIELDS:
        return services.history_value(fname, value)
    if fname in CHOICE_MAPS:
        return choice_label(fname, value, chinese=parser.chinese)
    if isinstance(value, bool):
        return bool_label(value, chinese=parser.chinese)
    return str(value)


def audit_job(job: ImportJob) -> None:
    audit(
        job.created_by,
        AuditAction.CUSTOMER_IMPORT,
        target_type="import_job",
        target_id=str(job.pk),
        **{
            "file": job.file_name,
            "kind": job.kind,
            "owner": job.owner.username if job.owner else None,
            "dry_run": job.dry_run,
            "status": job.status,
            "rows": job.processed_rows,
            "created": job.created_count,
            "skipped": job.skipped_count,
            "errors": job.error_count,
        },
    )


def remove_upload(job: ImportJob) -> None:
    """Uploaded copies go once imported (they hold personal data); files given on the command line stay."""
    uploads.delete(job.file_path)
