"""Timing helpers: repeated runs, median / p95, the SQL a call ran and the time to replay it raw."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction


class NotAvailable(Exception):
    """The code path a benchmark measures has not landed yet."""


class _Rollback(Exception):
    pass


def summary(samples: list[float]) -> dict[str, float]:
    """Median, p95 (nearest rank), min, max and mean of ``samples``."""
    s = sorted(samples)
    if not s:
        return {}
    return {
        "n": len(s),
        "median": statistics.median(s),
        "p95": s[max(0, math.ceil(0.95 * len(s)) - 1)],
        "min": s[0],
        "max": s[-1],
        "mean": statistics.fmean(s),
    }


def repeat(fn: Callable[[int], Any], runs: int, *, warmup: int = 2, cpu: list[float] | None = None) -> list[float]:
    """Seconds per call of ``fn(i)`` over ``runs`` calls, after ``warmup`` untimed calls.

    ``cpu`` collects this process's CPU seconds per call: on a machine shared with other work it
    is the steadier figure (with SQLite it is all the work; with PostgreSQL the server's is not in it)."""
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(runs):
        c0 = time.process_time()
        started = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return out


@dataclass
class Recorded:
    statements: list[tuple[str, Any, bool]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def record_sql():
    """Every statement run on the default connection inside the block: (sql, params, many)."""
    rec = Recorded()

    def wrapper(execute, sql, params, many, context):
        rec.statements.append((sql, params, many))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield rec


def replay_seconds(rec: Recorded) -> float:
    """Time to run the recorded statements again straight on a cursor, fetching every row — the
    database's share of a call, without ORM, serialisation or HTTP. Runs in a rolled-back transaction."""
    elapsed = 0.0
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                for sql, params, many in rec.statements:
                    if many or sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                        continue
                    started = time.perf_counter()
                    cur.execute(sql, params)
                    if cur.description is not None:
                        cur.fetchall()
                    elapsed += time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


def rolled_back(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` inside a transaction that is then rolled back, so every run does the same work.
    Returns (seconds, result)."""
    result = None
    elapsed = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed, result
