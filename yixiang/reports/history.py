"""Conversion, days in stage and win rates counted by the database from the stage-change rows.

The same arithmetic as rules.conversions / rules.median_days_in_stage / rules.win_rates (which stay
the reference, see tests/test_history_sql.py), but the stays ("stints") are built in SQL with window
functions, so a region's whole history never travels into Python: the reads return a few counts per
stage, plus the stays that ended in the period (for their median). Plain SQL that SQLite (≥ 3.28, named windows)
and PostgreSQL both run; datetimes are compared as stored (Django writes them in one format)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from yixiang.customers.models import Customer
from yixiang.pipeline.models import StageChange
from yixiang.reports import rules

# Each customer's stays, numbered in time order (0: the stay before the first change), with the
# start of the next stay as their end. %(customers)s is a subquery of customer ids.
_STINTS = """
WITH ch AS (
    SELECT sc.customer_id AS cid, sc.at AS at, sc.from_stage AS from_stage, sc.to_stage AS to_stage,
           LAG(sc.to_stage) OVER w AS prev, ROW_NUMBER() OVER w AS rn
    FROM {changes} sc
    WHERE sc.customer_id IN ({customers})
    WINDOW w AS (PARTITION BY sc.customer_id ORDER BY sc.at, sc.id)
),
starts AS (
    SELECT c.id AS cid, 0 AS seq, COALESCE(f.from_stage, f.to_stage, c.stage) AS stage,
           CASE WHEN f.at IS NOT NULL AND f.at < c.created_at THEN f.at ELSE c.created_at END AS start
    FROM {customer_table} c LEFT JOIN ch f ON f.cid = c.id AND f.rn = 1
    WHERE c.id IN ({customers})
    UNION ALL
    SELECT cid, rn, to_stage, at FROM ch WHERE to_stage <> COALESCE(prev, from_stage, to_stage)
),
stints AS (
    SELECT cid, seq, stage, start, LEAD(start) OVER (PARTITION BY cid ORDER BY seq) AS stop FROM starts
)
"""

_WIN_RATES = """
SELECT 'w', k.stage, COUNT(*), SUM(CASE WHEN sg.last_signed > k.first_start THEN 1 ELSE 0 END), {no_time}, {no_time}
FROM (SELECT cid, stage, MIN(start) AS first_start FROM stints GROUP BY cid, stage) k
LEFT JOIN (SELECT cid, MAX(start) AS last_signed FROM stints WHERE stage = 5 GROUP BY cid) sg ON sg.cid = k.cid
GROUP BY k.stage
"""

# For each open stage k: customers with a stay in k overlapping [start, end), and how many of them
# later (after the first such stay) reached a higher stage before ``end``.
_CONVERSIONS = """
SELECT 'c', k.stage, COUNT(*), SUM(k.advanced), {no_time}, {no_time}
FROM (
    SELECT f.cid, f.stage, MAX(CASE WHEN s.cid IS NULL THEN 0 ELSE 1 END) AS advanced
    FROM (
        SELECT cid, stage, MIN(seq) AS fseq FROM stints
        WHERE stage < 5 AND start < %s AND (stop IS NULL OR stop > %s)
        GROUP BY cid, stage
    ) f
    LEFT JOIN stints s ON s.cid = f.cid AND s.seq > f.fseq AND s.stage > f.stage AND s.start < %s
    GROUP BY f.cid, f.stage
) k
GROUP BY k.stage
"""

# Every customer has exactly one first stay (seq 0): their count is the customers counted.
_CUSTOMERS = """
SELECT 'n', NULL, COUNT(*), NULL, {no_time}, {no_time} FROM stints WHERE seq = 0
"""

_DURATIONS = """
SELECT 'd', stage, NULL, NULL, start, stop FROM stints WHERE stage < 5 AND stop >= %s AND stop < %s
"""


@dataclass
class Movement:
    conversions: list[rules.Conversion]
    durations: list[rules.StageDuration]
    win_rates: dict[int, rules.WinRate]
    customers: int = 0  # how many customers the figures come from


def _moment(value: dt.datetime | str) -> dt.datetime:
    """A datetime read back from a raw query (SQLite gives the stored text, in UTC)."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value


def movement(
    customers: QuerySet[Customer], start: dt.datetime | None = None, end: dt.datetime | None = None
) -> Movement:
    """Win rates from the whole history of ``customers``; with a period, also the conversions and
    the stays that ended in it (one query)."""
    ids_sql, ids_params = customers.order_by().values("pk").query.sql_with_params()
    sql = _STINTS.format(
        changes=connection.ops.quote_name(StageChange._meta.db_table),
        customer_table=connection.ops.quote_name(Customer._meta.db_table),
        customers=ids_sql,
    )
    params: list = [*ids_params, *ids_params]
    parts = [_WIN_RATES, _CUSTOMERS]
    if start is not None and end is not None:
        a, b = (connection.ops.adapt_datetimefield_value(x) for x in (start, end))
        parts += [_CONVERSIONS, _DURATIONS]
        params += [b, a, b, a, b]
    with connection.cursor() as cursor:
        no_time = "CAST(NULL AS timestamp with time zone)" if connection.vendor == "postgresql" else "NULL"
        cursor.execute(sql + " UNION ALL ".join(p.format(no_time=no_time) for p in parts), params)
        rows = cursor.fetchall()
    reached = dict.fromkeys(rules.OPEN_STAGES, 0)
    signed = dict.fromkeys(rules.OPEN_STAGES, 0)
    entered = dict.fromkeys(rules.OPEN_STAGES, 0)
    advanced = dict.fromkeys(rules.OPEN_STAGES, 0)
    days: dict[int, list[float]] = {k: [] for k in rules.OPEN_STAGES}
    signed_total = counted = 0
    for kind, stage, n, m, first, last in rows:
        if kind == "n":
            counted = n
        elif kind == "w":
            if stage == rules.SIGNED:
                signed_total = n
            elif stage in reached:
                reached[stage], signed[stage] = n, m or 0
        elif kind == "c" and stage in entered:
            entered[stage], advanced[stage] = n, m or 0
        elif kind == "d" and stage in days:
            days[stage].append((_moment(last) - _moment(first)).total_seconds() / 86400)
    wins = {k: rules.WinRate(k, reached[k], signed[k]) for k in rules.OPEN_STAGES}
    wins[rules.SIGNED] = rules.WinRate(rules.SIGNED, signed_total, signed_total)
    return Movement(
        conversions=[rules.Conversion(k, entered[k], advanced[k]) for k in rules.OPEN_STAGES],
        durations=[
            rules.StageDuration(k, round(statistics.median(v), 2) if v else None, len(v)) for k, v in days.items()
        ],
        win_rates=wins,
        customers=counted,
    )
