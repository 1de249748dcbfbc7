"""The benchmarks. Each calls the application's real code path (HTTP through Django's full stack,
or the service / job itself) and raises ``NotAvailable`` while that path has not landed yet.

Each case returns a dict: ``samples`` (seconds per run, or a rate), ``limit`` (the same
work done the cheapest possible way, measured in the same run), and extra facts.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from bench.common import peak_rss_mb, reset_peak_rss
from bench.measure import NotAvailable, record_sql, repeat, replay_seconds, rolled_back, summary

# --- Targets (issue 7): on this 2-core machine with SQLite; PostgreSQL within 2× of these. -------


@dataclass(frozen=True)
class Target:
    value: float
    stat: str  # "p95", "median" or "rate"
    unit: str  # "ms", "s", "rows/s", "req/s"
    higher_is_better: bool = False
    max_ratio: float | None = None  # ... and within this many times its limit

    def for_db(self, db: str) -> Target:
        if db != "postgres":
            return self
        value = self.value / 2 if self.higher_is_better else self.value * 2
        return Target(value, self.stat, self.unit, self.higher_is_better, self.max_ratio)

    def describe(self) -> str:
        op = "≥" if self.higher_is_better else "≤"
        text = f"{self.stat} {op} {self.value:g} {self.unit}"
        if self.max_ratio:
            text += f", ≤ {self.max_ratio:g}× limit"
        return text


MEMORY_LIMIT_MB = 300


@dataclass
class Case:
    name: str
    title: str
    run: Callable[[Ctx], dict]
    target: Target | None = None
    memory_watch: bool = False  # the "memory of a worker during import and reports"


@dataclass
class Ctx:
    customers: int
    runs: int
    db: str
    import_rows: int
    throughput_seconds: int
    connections: int
    capacity_steps: list[int] = field(default_factory=list)
    step_seconds: int = 60
    today: dt.date = field(default_factory=timezone.localdate)
    rnd: random.Random = field(default_factory=lambda: random.Random(11))  # noqa: S311 (sampling, not security)
    _users: dict[str, Any] = field(default_factory=dict)

    def user(self, username: str):
        from yixiang.accounts.models import User

        if username not in self._users:
            self._users[username] = User.objects.select_related("team", "region").get(username=username)
        return self._users[username]

    @property
    def rep(self):
        return self.user("rep0001")

    @property
    def lead(self):
        return self.user("lead001")

    @property
    def director(self):
        return self.user("director01")

    @property
    def admin(self):
        return self.user("admin")


# --- Helpers -------------------------------------------------------------------------------------


def _module(name: str, attr: str | None = None) -> Any:
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise NotAvailable(f"{name} does not exist yet") from None
        raise
    if attr is not None and not hasattr(mod, attr):
        raise NotAvailable(f"{name}.{attr} does not exist yet")
    return getattr(mod, attr) if attr else mod


def _route(path: str) -> None:
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        raise NotAvailable(f"{path.split('?')[0]} is not routed yet") from None


def api_client(user) -> Client:
    from yixiang.accounts.services import api_token_create

    token = api_token_create(user=user, name="bench")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    client.bench_token = token
    return client


def web_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def http_latency(client: Client, urls: list[str | list[str]], runs: int, *, expect: int = 200) -> dict:
    """Latency of GET ``urls`` (cycled; an entry that is a list is fetched in turn as one call, like
    a page and the panels it loads) through Django's whole stack, the number of queries one call
    runs, and the time to replay that SQL raw (the database's share: the ``db`` limit)."""

    def call(i: int):
        group = urls[i % len(urls)]
        first = None
        for url in [group] if isinstance(group, str) else group:
            resp = client.get(url)
            if resp.status_code != expect:
                raise RuntimeError(f"GET {url} gave {resp.status_code}: {resp.content[:300]!r}")
            first = first or resp
        return first

    cpu: list[float] = []
    samples = repeat(call, runs, cpu=cpu)
    queries, replays, rows = [], [], None
    for i in range(min(len(urls), 10)):
        with record_sql() as rec:
            resp = call(i)
        queries.append(rec.count)
        replays.append(replay_seconds(rec))
        if rows is None:
            rows = _row_count(resp)
    return {
        "samples": samples,
        "limit": {"what": "the same SQL replayed raw", "samples": replays},
        "queries": max(queries),
        "rows": rows,
        "cpu": cpu,
    }


def _row_count(resp) -> int | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        for key in ("items", "members", "rows", "reps"):
            if isinstance(body.get(key), list):
                return len(body[key])
    if isinstance(body, list):
        return len(body)
    return None


def _sample(qs, n: int, rnd: random.Random) -> list:
    ids = list(qs.values_list("pk", flat=True)[:5000])
    rnd.shuffle(ids)
    return ids[:n]


# --- Reads: search, customer page, agenda -----------------------------------------------------------


def _search(ctx: Ctx, key: Callable[[Any], str], note: str) -> dict:
    """GET /api/v1/customers?q=… as a rep (own customers + the pool) with keys taken from 25 pool
    customers and 25 of the rep's own."""
    from yixiang.customers.models import Customer

    _route("/api/v1/customers")
    # In id order: without it the first 5,000 are whatever the plan returns (a parallel scan's
    # order, or another index's after a migration), and two runs or an A/B pair search other keys.
    with_phone = Customer.objects.filter(phone_normalized__isnull=False, deleted_at__isnull=True).order_by("pk")
    ids = _sample(with_phone.filter(owner__isnull=True), 25, ctx.rnd) + _sample(
        with_phone.filter(owner=ctx.rep), 25, ctx.rnd
    )
    keys = [k for k in (key(c) for c in Customer.objects.filter(pk__in=ids)) if len(k) >= 2]
    out = http_latency(api_client(ctx.rep), [f"/api/v1/customers?q={k}" for k in keys], ctx.runs)
    out["note"] = note + ", e.g. " + ", ".join(keys[:3])
    return out


def case_search_initials(ctx: Ctx) -> dict:
    return _search(ctx, lambda c: c.name_initials, "as a rep, the pinyin initials of real names")


def case_search_phone(ctx: Ctx) -> dict:
    return _search(ctx, lambda c: c.phone_normalized[-4:], "as a rep, the last 4 digits of real numbers")


def case_customer_list(ctx: Ctx) -> dict:
    _route("/api/v1/customers")
    client = api_client(ctx.rep)
    out = http_latency(client, ["/api/v1/customers", "/api/v1/customers?owner=mine"], ctx.runs)
    out["note"] = "first page (50) of everything a rep sees, and of 'mine'"
    return out


def _own_customer_ids(ctx: Ctx, n: int = 20) -> list[int]:
    from yixiang.customers.models import Customer

    return _sample(Customer.objects.filter(owner=ctx.rep, deleted_at__isnull=True), n, ctx.rnd)


def case_customer_api(ctx: Ctx) -> dict:
    _route("/api/v1/customers/1")
    client = api_client(ctx.rep)
    out = http_latency(client, [f"/api/v1/customers/{pk}" for pk in _own_customer_ids(ctx)], ctx.runs)
    out["note"] = "GET /api/v1/customers/{id}, the rep's own customers"
    return out


def case_customer_page(ctx: Ctx) -> dict:
    from bench.peer import customer_page_paths

    _route("/customers/1/")
    client = web_client(ctx.rep)
    ids = _own_customer_ids(ctx)
    signed = _signed(ids)
    pages = []
    for pk in ids:
        group = []
        for path in customer_page_paths(pk, pk in signed):
            try:
                resolve(path)
                group.append(path)
            except Resolver404:  # a panel that has not landed yet
                pass
        pages.append(group)
    out = http_latency(client, pages, ctx.runs)
    out["note"] = (
        f"the customer page as a browser loads it (the page and its panels; {len(signed)} of {len(ids)} "
        "customers signed, whose page also loads the after-sale panel)"
    )
    return out


def _signed(ids: list[int]) -> set[int]:
    from yixiang.customers.models import Customer
    from yixiang.pipeline.rules import SIGNED

    return set(Customer.objects.filter(pk__in=ids, stage=SIGNED).values_list("pk", flat=True))


def _win_chance(ctx: Ctx, user) -> dict:
    """The customer page's win-chance fragment, as ``user``, on customers they may see (a rep's own
    customers; the director's region): the pool's share of the table is a snapshot, so the first
    call (not timed) makes it if it is missing, as the periodic task would have."""
    from yixiang.customers.models import Customer

    _route("/reports/customers/1/win/")
    client = web_client(user)
    if user.is_rep:
        ids = _own_customer_ids(ctx)
    else:
        ids = _sample(
            Customer.objects.filter(owner__team__region_id=user.region_id, deleted_at__isnull=True), 20, ctx.rnd
        )
    urls = [f"/reports/customers/{pk}/win/" for pk in ids]
    client.get(urls[0])
    out = http_latency(client, urls, ctx.runs)
    out["note"] = f"{user.username}: GET /reports/customers/{{id}}/win/ (the page's htmx fragment)"
    return out


def case_win_chance(ctx: Ctx) -> dict:
    return _win_chance(ctx, ctx.rep)


def case_win_chance_region(ctx: Ctx) -> dict:
    return _win_chance(ctx, ctx.director)


AGENDA_SQL = """
SELECT c.id, c.name, c.phone, c.stage, c.grade, c.next_due_on, c.last_contact_at, c.held_since,
       c.recycle_locked, p.first_contact_due_at,
       (SELECT f.at FROM pipeline_followup f WHERE f.customer_id = c.id ORDER BY f.at DESC LIMIT 1)
FROM customers_customer c LEFT JOIN pipeline_customerprofile p ON p.customer_id = c.id
WHERE c.owner_id = %s AND c.deleted_at IS NULL
  AND (c.next_due_on <= %s OR c.next_due_on IS NULL
       OR (c.recycle_locked = %s AND c.stage <> 5 AND (c.next_due_on < %s OR c.held_since < %s)))
"""


def agenda_raw(user_id: int, day: dt.date) -> list[tuple]:
    """The agenda's rows (due, overdue and about-to-recycle customers of one rep) in one raw query."""
    from yixiang.pipeline.conf import conf

    # The recycling cutoffs as pipeline.selectors.recycle_q draws them (the warning days ahead).
    when = day + dt.timedelta(days=conf("RECYCLE_WARN_DAYS"))
    due_before = when - dt.timedelta(days=conf("RECYCLE_OVERDUE_DAYS") or 0)
    held_before = when - dt.timedelta(days=conf("RECYCLE_HOLD_DAYS") or 0)
    held = timezone.make_aware(dt.datetime.combine(held_before, dt.time.min))
    with connection.cursor() as cur:
        cur.execute(AGENDA_SQL, [user_id, day, False, due_before, held])
        return cur.fetchall()


def case_agenda(ctx: Ctx) -> dict:
    _route("/api/v1/agenda")
    client = api_client(ctx.rep)
    url = f"/api/v1/agenda?date={ctx.today.isoformat()}"
    out = http_latency(client, [url], ctx.runs)
    raw_rows = len(agenda_raw(ctx.rep.pk, ctx.today))
    out["limit"] = {
        "what": "the raw SQL returning the same rows",
        "samples": repeat(lambda i: agenda_raw(ctx.rep.pk, ctx.today), ctx.runs),
    }
    out["db_replay_ms"] = summary(replay_samples(client, url))["median"] * 1000
    out["note"] = f"rep0001, {out['rows']} agenda items (raw SQL: {raw_rows} rows)"
    if out["rows"] is not None and out["rows"] != raw_rows:
        out["note"] += " — ROW COUNTS DIFFER"
    return out


def replay_samples(client: Client, url: str, n: int = 5) -> list[float]:
    out = []
    for _ in range(n):
        with record_sql() as rec:
            client.get(url)
        out.append(replay_seconds(rec))
    return out


# --- Reviews and reports ---------------------------------------------------------------------------------


def _period(ctx: Ctx, days: int = 30) -> tuple[dt.date, dt.date]:
    return ctx.today - dt.timedelta(days=days - 1), ctx.today


def _review(ctx: Ctx, user) -> dict:
    _route("/api/v1/team/review")
    start, end = _period(ctx)
    client = api_client(user)
    out = http_latency(client, [f"/api/v1/team/review?from={start}&to={end}"], max(5, ctx.runs // 3))
    out["note"] = f"{user.username}: {out['rows']} members, last 30 days"
    return out


def case_review_team(ctx: Ctx) -> dict:
    return _review(ctx, ctx.lead)


def case_review_region(ctx: Ctx) -> dict:
    return _review(ctx, ctx.director)


def _funnel(ctx: Ctx, user, *, scope: str, past: bool) -> dict:
    """GET /api/v1/reports/funnel when it is routed, else the report's selector itself."""
    as_of = ctx.today - dt.timedelta(days=90) if past else None
    scope_id = user.team_id if scope == "team" else user.region_id
    runs = max(5, ctx.runs // 3)
    try:
        _route("/api/v1/reports/funnel")
    except NotAvailable:
        selectors = _module("yixiang.reports.selectors")
        if not hasattr(selectors, "funnel"):
            raise NotAvailable("neither GET /api/v1/reports/funnel nor reports.selectors.funnel exists yet") from None
        f = selectors.ReportFilters.default(ctx.today, as_of=as_of, **{scope: scope_id})
        with record_sql() as rec:
            report = selectors.funnel(user=user, f=f, today=ctx.today)
        cpu: list[float] = []
        samples = repeat(lambda i: selectors.funnel(user=user, f=f, today=ctx.today), runs, cpu=cpu)
        return {
            "samples": samples,
            "cpu": cpu,
            "limit": {"what": "the same SQL replayed raw", "samples": [replay_seconds(rec) for _ in range(3)]},
            "queries": rec.count,
            "rows": len(report.reps),
            "note": f"reports.selectors.funnel (no API route yet), {len(report.reps)} reps"
            + (f", as of {as_of}" if past else ", now"),
        }
    client = api_client(user)
    url = f"/api/v1/reports/funnel?{scope}={scope_id}" + (f"&date={as_of}" if past else "")
    out = http_latency(client, [url], runs)
    out["note"] = f"{user.username}, {scope}" + (f", as of {as_of}" if past else ", now")
    return out


def case_funnel_team(ctx: Ctx) -> dict:
    return _funnel(ctx, ctx.lead, scope="team", past=False)


def case_funnel_region(ctx: Ctx) -> dict:
    return _funnel(ctx, ctx.director, scope="region", past=False)


def case_funnel_team_past(ctx: Ctx) -> dict:
    return _funnel(ctx, ctx.lead, scope="team", past=True)


def case_funnel_region_past(ctx: Ctx) -> dict:
    return _funnel(ctx, ctx.director, scope="region", past=True)


# --- Writes: follow-up insert ------------------------------------------------------------------------

FOLLOWUP_SUMMARY = "客户问效果怎么样，和同行比较了一下，约了下周再聊。"
_RESTORE = ("stage", "grade", "expected_sign_month", "last_contact_at", "next_due_on", "version", "updated_at")


class _FollowUpSandbox:
    """Customers of the rep to log follow-ups on; afterwards their rows and fields are put back."""

    def __init__(self, ctx: Ctx, n: int):
        from yixiang.customers.models import Customer
        from yixiang.pipeline.models import FollowUp, StageChange

        self.ids = _sample(
            Customer.objects.filter(owner=ctx.rep, deleted_at__isnull=True, stage__gte=0, stage__lte=4), n, ctx.rnd
        )
        if not self.ids:
            raise RuntimeError("rep0001 has no tracked customers")
        self.before = list(Customer.objects.filter(pk__in=self.ids).only(*_RESTORE))
        self.fu_mark = FollowUp.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.sc_mark = StageChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def restore(self) -> None:
        from yixiang.customers.models import Customer, CustomerChange
        from yixiang.pipeline.models import FollowUp, StageChange

        with transaction.atomic():
            StageChange.objects.filter(pk__gt=self.sc_mark).delete()
            FollowUp.objects.filter(pk__gt=self.fu_mark).delete()
            CustomerChange.objects.filter(customer_id__in=self.ids, at__gte=self.started).delete()
            Customer.objects.bulk_update(self.before, list(_RESTORE))


def _followups(ctx: Ctx, log_one: Callable[[int], None], note: str) -> dict:
    """Time ``log_one(customer_id)`` on distinct customers of the rep, each committed, then put
    the customers back as they were."""
    box = _FollowUpSandbox(ctx, ctx.runs + 1)
    box.started = timezone.now()
    try:
        with record_sql() as rec:
            log_one(box.ids[0])
        cpu: list[float] = []
        samples = repeat(lambda i: log_one(box.ids[1 + i % (len(box.ids) - 1)]), ctx.runs, warmup=0, cpu=cpu)
    finally:
        box.restore()
    return {"samples": samples, "cpu": cpu, "queries": rec.count, "note": note}


def case_followup_insert(ctx: Ctx) -> dict:
    log = _module("yixiang.pipeline.services", "followup_log")
    from yixiang.customers.scoping import access_customer

    rep = ctx.rep

    def log_one(customer_id: int) -> None:
        customer = access_customer(rep, customer_id, for_change=True)
        log(actor=rep, customer=customer, channel="phone", duration_minutes=6, summary=FOLLOWUP_SUMMARY)

    return _followups(ctx, log_one, "pipeline.services.followup_log (+ access check), committed; undone afterwards")


def case_followup_http(ctx: Ctx) -> dict:
    _route("/api/v1/customers/1/follow-ups")
    client = api_client(ctx.rep)
    body = {"channel": "phone", "duration_minutes": 6, "summary": FOLLOWUP_SUMMARY}

    def log_one(customer_id: int) -> None:
        resp = client.post(f"/api/v1/customers/{customer_id}/follow-ups", body, content_type="application/json")
        if resp.status_code != 201:
            raise RuntimeError(f"POST follow-up gave {resp.status_code}: {resp.content[:300]!r}")

    return _followups(ctx, log_one, "POST /api/v1/customers/{id}/follow-ups, committed; undone afterwards")


# --- Daily jobs ---------------------------------------------------------------------------------------


def case_recycling(ctx: Ctx) -> dict:
    run = _module("yixiang.pipeline.pool", "recycle_run")
    from yixiang.customers.models import Customer

    counts = []

    def call(i: int):
        seconds, result = rolled_back(lambda: run(today=ctx.today))
        counts.append(result.recycled)
        return seconds

    samples = [call(i) for i in range(3)]
    owned = Customer.objects.filter(owner__isnull=False).count()
    return {
        "samples": samples,
        "note": f"pipeline.pool.recycle_run over {Customer.objects.count():,} customers ({owned:,} owned): "
        f"{counts[0]:,} recycled; each run rolled back so every run does the same work",
    }


def case_release_proposals(ctx: Ctx) -> dict:
    run = _module("yixiang.pipeline.pool", "release_proposals_refresh")
    found = []

    def call(i: int):
        seconds, result = rolled_back(run)
        found.append(result)
        return seconds

    samples = [call(i) for i in range(3)]
    return {"samples": samples, "note": f"pipeline.pool.release_proposals_refresh (daily), {found[0]}; rolled back"}


def case_incentives(ctx: Ctx) -> dict:
    """The incentive month as ``manage.py incentives --month M --derive`` computes it."""
    from io import StringIO

    from django.core.management import call_command, get_commands

    if "incentives" not in get_commands():
        raise NotAvailable("manage.py incentives does not exist yet")
    first = ctx.today.replace(day=1)
    month = (first - dt.timedelta(days=1)).replace(day=1)
    from yixiang.accounts.models import Role, User

    managers = User.objects.filter(role=Role.REP, is_active=True).count()

    def call():
        out = StringIO()
        call_command("incentives", month=month.strftime("%Y-%m"), derive=True, json=True, stdout=out, stderr=StringIO())
        return out.getvalue()

    samples = []
    statements = None
    for _ in range(3):
        seconds, text = rolled_back(call)
        samples.append(seconds)
        if statements is None:
            import json

            try:
                statements = len(json.loads(text))
            except ValueError:
                statements = None
    return {
        "samples": samples,
        "note": f"month {month:%Y-%m}, {managers:,} reps, {statements} statements; derive + compute, rolled back",
    }


# --- Import ----------------------------------------------------------------------------------------------

IMPORT_HEADER = [
    "姓名",
    "手机号",
    "性别",
    "出生日期",
    "省份",
    "城市",
    "地址",
    "职业",
    "客户来源",
    "公司名称",
    "行业",
    "备注",
]


def write_import_csv(path: Path, rows: int, existing: int) -> None:
    """An N-row purchased list: Chinese names, CN mobiles (1 % repeated inside the file, 1 % already
    in the database), addresses; written as UTF-8 with BOM like Excel in China, row by row (nothing
    kept in memory, so the import's peak memory is the import's own)."""
    from bench.generate import CITIES_BY_REGION, INDUSTRIES, OCCUPATIONS, STREETS, Generator

    gen = Generator.__new__(Generator)
    gen.rnd = random.Random(99)  # noqa: S311
    from bench.generate import SURNAMES, _weighted

    gen.surnames, gen.surname_cum = _weighted(SURNAMES)
    rnd = gen.rnd.random
    sources = ["购买名单", "展会", "数据库", "转介绍", "前台"]
    fh = open(path, "w", newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed below)
    w = csv.writer(fh)
    w.writerow(IMPORT_HEADER)
    for j in range(rows):
        r = rnd()
        if r < 0.01 and existing:
            phone = gen.phone(1 + int(rnd() * existing))[0]
        elif r < 0.02 and j > 10:
            phone = gen.phone(50_000_000 + int(rnd() * j))[0]
        else:
            phone = gen.phone(50_000_000 + j)[0]
        province, city = CITIES_BY_REGION[j % len(CITIES_BY_REGION)][0]
        company = rnd() < 0.2
        w.writerow(
            [
                gen.person_name(),
                phone.replace(" ", ""),
                "男" if rnd() < 0.55 else "女",
                f"{1960 + int(rnd() * 40)}-{1 + int(rnd() * 12):02d}-{1 + int(rnd() * 28):02d}",
                province,
                city,
                f"{city}市{STREETS[j % len(STREETS)]}{1 + j % 300}号",
                OCCUPATIONS[j % len(OCCUPATIONS)],
                sources[j % len(sources)],
                f"{city}{j % 97}号商贸有限公司" if company else "",
                INDUSTRIES[j % len(INDUSTRIES)],
                "",
            ]
        )
    fh.close()


def delete_customers_after(mark: int) -> None:
    """Remove customers with id > mark and every row hanging off them (the import's leftovers)."""
    from yixiang.customers.models import Customer

    q = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Children go first, so the per-row deferred FK checks at commit are only cost here.
            cur.execute("SET LOCAL session_replication_role = replica")
        for rel in Customer._meta.related_objects:
            if rel.many_to_many:
                through = rel.through if hasattr(rel, "through") else rel.field.remote_field.through
                col = [f.column for f in through._meta.concrete_fields if f.related_model is Customer][0]
                cur.execute(f"DELETE FROM {q(through._meta.db_table)} WHERE {q(col)} > %s", [mark])
            elif rel.related_model is Customer:
                cur.execute(
                    f"UPDATE {q(Customer._meta.db_table)} SET {q(rel.field.column)} = NULL WHERE {q(rel.field.column)} > %s",
                    [mark],
                )
            else:
                cur.execute(
                    f"DELETE FROM {q(rel.related_model._meta.db_table)} WHERE {q(rel.field.column)} > %s", [mark]
                )
        through = Customer.tags.through
        cur.execute(f"DELETE FROM {q(through._meta.db_table)} WHERE customer_id > %s", [mark])
        cur.execute(f"DELETE FROM {q(Customer._meta.db_table)} WHERE id > %s", [mark])


def case_import(ctx: Ctx) -> dict:
    import_file = _module("yixiang.customers.importing", "import_file")
    from django.conf import settings

    from yixiang.customers.models import Customer, ImportJob

    rows = ctx.import_rows
    path = Path(settings.DATA_DIR) / f"bench-import-{rows}.csv"
    existing = Customer.objects.count()
    write_import_csv(path, rows, existing)
    runs = 1 if rows >= 500_000 else 3
    samples, limits, real_limits, created, rss = [], [], [], None, []
    mark = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    jobs_mark = ImportJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        for _ in range(runs):
            reset_peak_rss()
            started = time.perf_counter()
            job = import_file(path, actor=ctx.admin, owner=None, file_name=path.name)
            samples.append(rows / (time.perf_counter() - started))
            rss.append(peak_rss_mb())
            if job.status != ImportJob.Status.DONE:
                raise RuntimeError(f"import ended {job.status}: {job.message}")
            created = (job.created_count, job.skipped_count, job.error_count)
            delete_customers_after(mark)
            limits.append(rows / bare_insert_seconds(path))
            real_limits.append(rows / bare_real_table_seconds(path))
    finally:
        delete_customers_after(mark)
        ImportJob.objects.filter(pk__gt=jobs_mark).delete()
        path.unlink(missing_ok=True)
    return {
        "samples": samples,
        "rate": True,
        "limit": {
            "what": "reading the same CSV and a bare executemany of its rows into a scratch table",
            "samples": limits,
            "rate": True,
        },
        "peak_rss_mb": max(rss),
        "limit_real_table": {
            "what": "the same CSV's rows, as they are, executemany'd into the real customer table (rolled back)",
            "samples": real_limits,
            "rate": True,
        },
        "note": f"customers.importing.import_file, {rows:,}-row CSV into the pool of {existing:,}: "
        f"created {created[0]:,}, duplicates skipped {created[1]:,}, errors {created[2]:,}; "
        f"peak RSS of its parsing process {children_peak_rss_mb():.0f} MB (forked: shares most pages with the writer); "
        f"bare executemany into the real customer table: {sorted(real_limits)[len(real_limits) // 2]:,.0f} rows/s",
    }


def children_peak_rss_mb() -> float:
    """Largest peak RSS of the child processes this one waited for (the import's parsing process)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def bare_insert_seconds(path: Path) -> float:
    """Read the same CSV and executemany its rows into a scratch table, 5,000 at a time."""
    q = connection.ops.quote_name
    table = q("bench_import_scratch")
    cols = ", ".join(f"c{i} varchar(300)" for i in range(len(IMPORT_HEADER)))
    marks = ", ".join(["%s"] * len(IMPORT_HEADER))
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} ({cols})")
    try:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur, open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch = []
            for row in reader:
                batch.append(row)
                if len(batch) == 5000:
                    cur.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
                    batch = []
            if batch:
                cur.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
        return time.perf_counter() - started
    finally:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")


# The CSV's columns as the customer table's (issue 17's limit: a bare executemany into the real table).
_IMPORT_ATTNAMES = {
    "姓名": "name",
    "手机号": "phone",
    "性别": "gender",
    "出生日期": "birth_date",
    "省份": "province",
    "城市": "city",
    "地址": "address",
    "职业": "occupation",
    "来源": "source",
    "公司": "company_name",
    "行业": "industry",
    "备注": "notes",
}


def bare_real_table_seconds(path: Path) -> float:
    """Read the same CSV and executemany its rows, as they are, into the real customer table (every
    index of a live database), 2,000 at a time in one transaction that is rolled back afterwards.
    The floor of any importer: no checking, no normalising, no dedupe, no history."""
    from yixiang.customers.models import Customer

    q = connection.ops.quote_name
    fields = [f for f in Customer._meta.concrete_fields if not f.primary_key]
    template = [f.get_db_prep_save(f.get_default(), connection) for f in fields]
    index = {f.attname: i for i, f in enumerate(fields)}
    now = timezone.now()
    template[index["created_at"]] = template[index["updated_at"]] = connection.ops.adapt_datetimefield_value(now)
    cols = [index.get(_IMPORT_ATTNAMES.get(h, ""), -1) for h in IMPORT_HEADER]
    sql = (
        f"INSERT INTO {q(Customer._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with transaction.atomic(), connection.cursor() as cur, open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader)
        started = time.perf_counter()
        batch = []
        for j, row in enumerate(reader):
            values = template.copy()
            for i, v in zip(cols, row, strict=False):
                if i >= 0 and v:
                    values[i] = v
            values[index["archive_no"]] = f"BENCH{j:09d}"
            values[index["phone_normalized"]] = f"bench{j}"
            batch.append(values)
            if len(batch) == 2000:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


# --- Throughput -------------------------------------------------------------------------------------------


def case_throughput(ctx: Ctx) -> dict:
    """Requests/s of GET /api/v1/agenda from wrk against ``manage.py serve`` (gunicorn, workers =
    cores). Limit: the same server answering the cheapest API request (401, no token, no query)."""
    from django.conf import settings

    from bench.http import Server, run_wrk

    _route("/api/v1/agenda")
    client = api_client(ctx.rep)
    token = client.bench_token
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/agenda?date={ctx.today.isoformat()}"
    workers = os.cpu_count() or 2
    connection.close()  # the server processes get the database to themselves
    runs = []
    with Server(workers, Path(settings.DATA_DIR) / "bench-serve.log") as server:
        server.wait_ready(path, headers)
        run_wrk(server.base + path, seconds=2, connections=ctx.connections, headers=headers)  # warm-up
        for _ in range(3):
            runs.append(
                run_wrk(
                    server.base + path, seconds=ctx.throughput_seconds, connections=ctx.connections, headers=headers
                )
            )
        limit = run_wrk(server.base + path, seconds=ctx.throughput_seconds, connections=ctx.connections)
    bad = sum(r["non_2xx"] for r in runs)
    return {
        "samples": [r["rps"] for r in runs],
        "rate": True,
        "limit": {
            "what": "same server, same URL without a token (401, no database work)",
            "samples": [limit["rps"]],
            "rate": True,
        },
        "latency_ms": runs[len(runs) // 2]["latency_ms"],
        "note": f"wrk -t1 -c{ctx.connections} -d{ctx.throughput_seconds}s on loopback, gunicorn {workers} workers × "
        f"{os.environ.get('WEB_THREADS', '4')} threads; latency p50 {runs[len(runs) // 2]['latency_ms'].get('50', 0):.1f} ms, "
        f"p99 {runs[len(runs) // 2]['latency_ms'].get('99', 0):.1f} ms; non-2xx {bad}",
    }


# --- Capacity: the working-day load model (Locust) ---------------------------------------------------


def case_capacity(ctx: Ctx) -> dict:
    """Concurrently active users served with p95 ≤ 200 ms and no errors (``bench/capacity.py``)."""
    from django.conf import settings

    from bench.capacity import DEFAULT_STEPS, P95_LIMIT_MS, find_capacity

    _route("/agenda/")
    workers = os.cpu_count() or 2
    found = find_capacity(
        steps=ctx.capacity_steps or list(DEFAULT_STEPS),
        seconds=ctx.step_seconds,
        workers=workers,
        log=Path(settings.DATA_DIR) / "bench-serve.log",
        report=lambda text: print(text, flush=True),
    )
    steps = found["steps"]
    best = next((s for s in steps if s["users"] == found["capacity"]), None)
    miss = found["first_miss"]
    acc = found["accounts"]
    note = (
        f"locust (bench/locustfile.py) against gunicorn {workers} workers × {os.environ.get('WEB_THREADS', '4')} threads "
        f"on the same 2-core box (locust's own CPU included in the load); {acc['rep']} reps, {acc['lead']} leads, "
        f"{acc['director']} directors as accounts (more virtual users share them); think time "
        f"{os.environ.get('BENCH_THINK', '3,12').replace(',', '–')} s; {ctx.step_seconds} s per step; "
        f"capacity {found['capacity']} users (p95 ≤ {P95_LIMIT_MS:g} ms, no errors)"
    )
    if best:
        note += (
            f" at {best['rps']:.0f} req/s, p95 {best['p95_ms']:.0f} ms, server CPU "
            f"{best['server_cpu_ms_per_request']:.1f} ms/request, load {best['loadavg']}"
        )
    if miss:
        m = next(s for s in steps if s["users"] == miss)
        note += f"; missed at {miss} users: p95 {m['p95_ms']:.0f} ms, {m['failures']} failures, load {m['loadavg']}"
    else:
        note += "; no step missed (raise --capacity-steps)"
    if found["cpu_ceiling"]:
        note += (
            f"; CPU ceiling (server CPU per request × requests per user, all {workers} cores, no queueing"
            + (
                "; gunicorn's CPU only, PostgreSQL's own is not in it, so this overstates"
                if ctx.db == "postgres"
                else ""
            )
            + "): "
            f"~{found['cpu_ceiling']:,} users"
        )
    note += f"; {found['followups_undone']} follow-ups logged and undone"
    return {"samples": [found["capacity"]], "rate": True, "steps": steps, "note": note}


# --- The peer: DjangoCRM 1.7.0 beside Yixiang ------------------------------------------------------------


def case_peer(ctx: Ctx) -> dict:
    """Comparable pages of Yixiang and DjangoCRM over HTTP, interleaved (``bench/peer.py``)."""
    from django.conf import settings

    from bench import peer
    from yixiang.customers.models import Customer

    if ctx.db != "sqlite":
        raise NotAvailable("the peer runs on SQLite only: run this case with --db sqlite")
    say = lambda text: print(text, flush=True)  # noqa: E731
    wheel = peer.ensure_installed(say)
    facts = peer.ensure_loaded(ctx.customers, say)
    ids = _own_customer_ids(ctx, 20)
    signed = _signed(ids)
    names = list(Customer.objects.filter(pk__in=ids[:10]).values_list("name", flat=True))
    names += list(
        Customer.objects.filter(pk__in=_sample(Customer.objects.filter(owner__isnull=True), 10, ctx.rnd)).values_list(
            "name", flat=True
        )
    )
    runs = max(10, ctx.runs // 2)
    pairs = peer.compare(
        rep=ctx.rep,
        customer_ids=ids,
        search_names=names,
        runs=runs,
        log_dir=Path(settings.DATA_DIR),
        say=say,
        signed_ids=signed,
    )
    ratios = [p["ratio"] for p in pairs.values()]
    note = (
        f"{wheel}, its own venv in {peer.PEER_DIR}, SQLite, DEBUG off, gunicorn 2 workers × 4 threads, as rep0001 "
        f"({facts['companies']:,} companies with a contact each, {facts['deals']:,} deals each with its request; "
        f"loaded in {facts['load_seconds']:.0f} s); {runs} interleaved runs per pair; DjangoCRM / Yixiang median: "
        + ", ".join(f"{p['title'].split(' vs ')[0]} {p['ratio']}× (CPU {p['cpu_ratio']}×)" for p in pairs.values())
    )
    return {"samples": [min(ratios)], "rate": True, "peer": pairs, "note": note}


# --- Pages against their API twins (issue 17) ----------------------------------------------------------

PAGE_PAIRS = (
    ("agenda", "agenda: /agenda/ vs GET /api/v1/agenda"),
    ("list", "customer list: /customers/ vs GET /api/v1/customers"),
    ("search", "name search: /customers/?q= vs GET /api/v1/customers?q="),
    ("record", "customer page + its panels vs the customer's APIs"),
    ("write", "follow-up save: form POST vs POST /api/v1/customers/{id}/follow-ups"),
)
# The APIs returning what the customer page and its panels show: the record; the pipeline
# panel's follow-ups, stage and owner changes (10 each, as the panel); the after-sale panel's
# contracts (with payouts), payments, shipments and referral tree.
RECORD_APIS = (
    "/api/v1/customers/{pk}",
    "/api/v1/customers/{pk}/follow-ups?limit=10",
    "/api/v1/customers/{pk}/history/stages?limit=10",
    "/api/v1/customers/{pk}/history/owners?limit=10",
    "/api/v1/customers/{pk}/contracts",
    "/api/v1/customers/{pk}/payments",
    "/api/v1/customers/{pk}/shipments",
    "/api/v1/customers/{pk}/referrals",
)
RECORD_APIS_PROSPECT = 4  # a prospect's page has no after-sale panel: the record and the pipeline's three


def case_pages(ctx: Ctx) -> dict:
    """Every page a rep opens, against the API call(s) returning the same data, behind gunicorn
    (``manage.py serve``), interleaved, as rep0001 (a session for the pages, a Bearer token for the
    API). Per pair: wall median / p95 and the server's CPU time per request (gunicorn master and
    workers, from /proc), and page CPU ÷ API CPU (issue 17: ≤ 2)."""
    import urllib.parse

    from django.conf import settings

    from bench.http import Server, server_cpu_seconds
    from bench.peer import Browser, customer_page_paths, save_followup_form
    from yixiang.customers.models import Customer

    _route("/agenda/")
    _route("/api/v1/agenda")
    rep = ctx.rep
    token = api_client(rep).bench_token
    web = web_client(rep)
    cookie = f"{settings.SESSION_COOKIE_NAME}={web.cookies[settings.SESSION_COOKIE_NAME].value}"
    ids = _own_customer_ids(ctx, 20)
    signed = _signed(ids)
    names = list(Customer.objects.filter(pk__in=ids[:10]).values_list("name", flat=True))
    pool = Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True)
    names += list(Customer.objects.filter(pk__in=_sample(pool, 10, ctx.rnd)).values_list("name", flat=True))
    runs = ctx.runs
    box = _FollowUpSandbox(ctx, 2 * (runs + 2))
    writes = box.ids
    box.started = timezone.now()
    today = ctx.today.isoformat()
    samples: dict[str, dict[str, list[float]]] = {k: {"p": [], "a": [], "pc": [], "ac": []} for k, _ in PAGE_PAIRS}
    workers = os.cpu_count() or 2
    connection.close()  # the server processes get the database to themselves
    try:
        with Server(workers, Path(settings.DATA_DIR) / "bench-serve.log") as server:
            server.wait_ready("/agenda/", {"Cookie": cookie})
            pid = server.proc.pid
            page = Browser(server.port, cookie, pid, cpu_seconds=server_cpu_seconds)
            api = Browser(
                server.port, "", pid, headers={"Authorization": f"Bearer {token}"}, cpu_seconds=server_cpu_seconds
            )

            def get(b: Browser, path: str) -> tuple[float, float]:
                status, text, wall, cpu = b.request("GET", path)
                if status != 200:
                    raise RuntimeError(f"GET {path} gave {status}: {text[:300]!r}")
                return wall, cpu

            def group(b: Browser, paths: list[str]) -> tuple[float, float]:
                parts = [get(b, p) for p in paths]
                return sum(w for w, _ in parts), sum(c for _, c in parts)

            def page_call(kind: str, i: int) -> tuple[float, float]:
                pk = ids[i % len(ids)]
                if kind == "agenda":
                    return get(page, "/agenda/")
                if kind == "list":
                    return get(page, "/customers/")
                if kind == "search":
                    return get(page, "/customers/?" + urllib.parse.urlencode({"q": names[i % len(names)]}))
                if kind == "record":
                    return group(page, customer_page_paths(pk, pk in signed))
                pk = writes[(2 * i) % len(writes)]
                return save_followup_form(page, pk, {"summary": FOLLOWUP_SUMMARY, "channel": "phone"})

            def api_call(kind: str, i: int) -> tuple[float, float]:
                pk = ids[i % len(ids)]
                if kind == "agenda":
                    return get(api, f"/api/v1/agenda?date={today}")
                if kind == "list":
                    return get(api, "/api/v1/customers")
                if kind == "search":
                    return get(api, "/api/v1/customers?" + urllib.parse.urlencode({"q": names[i % len(names)]}))
                if kind == "record":
                    apis = RECORD_APIS if pk in signed else RECORD_APIS[:RECORD_APIS_PROSPECT]
                    return group(api, [u.format(pk=pk) for u in apis])
                pk = writes[(2 * i + 1) % len(writes)]
                body = {"channel": "phone", "duration_minutes": 6, "summary": FOLLOWUP_SUMMARY}
                status, text, wall, cpu = api.request("POST", f"/api/v1/customers/{pk}/follow-ups", json_body=body)
                if status != 201:
                    raise RuntimeError(f"POST follow-up gave {status}: {text[:300]!r}")
                return wall, cpu

            for kind, _ in PAGE_PAIRS:  # warm-up: templates, caches, first connections of each worker
                for i in range(2 * workers):
                    page_call(kind, runs + i // 2 if kind == "write" else i)
                    api_call(kind, runs + i // 2 if kind == "write" else i)
            loads = [_loadavg()]
            for i in range(runs):
                for kind, _ in PAGE_PAIRS:
                    order = (("p", page_call), ("a", api_call)) if i % 2 == 0 else (("a", api_call), ("p", page_call))
                    for who, call in order:
                        wall, cpu = call(kind, i)
                        samples[kind][who].append(wall * 1000)
                        samples[kind][who + "c"].append(cpu * 1000)
            loads.append(_loadavg())
    finally:
        box.restore()
    out = {}
    for kind, title in PAGE_PAIRS:
        s = samples[kind]
        p, a, pc, ac = (summary(s[k]) for k in ("p", "a", "pc", "ac"))
        out[kind] = {
            "title": title,
            "page_ms": {"median": round(p["median"], 1), "p95": round(p["p95"], 1)},
            "api_ms": {"median": round(a["median"], 1), "p95": round(a["p95"], 1)},
            "page_cpu_ms": round(pc["median"], 2),
            "api_cpu_ms": round(ac["median"], 2),
            "cpu_ratio": round(pc["median"] / ac["median"], 2) if ac["median"] else None,
            "wall_ratio": round(p["median"] / a["median"], 2) if a["median"] else None,
        }
        r = out[kind]
        print(
            f"  {title:<70} page {r['page_ms']['median']:6.1f} ms (cpu {r['page_cpu_ms']:5.1f})  "
            f"API {r['api_ms']['median']:6.1f} ms (cpu {r['api_cpu_ms']:5.1f})  → page/API CPU {r['cpu_ratio']}×",
            flush=True,
        )
    worst = max((r["cpu_ratio"] or 0) for r in out.values())
    note = (
        f"gunicorn {workers} workers × {os.environ.get('WEB_THREADS', '4')} threads, rep0001 (session / Bearer), "
        f"{runs} interleaved runs per pair, server CPU per request from /proc/<pid>/task/*/schedstat (median); "
        f"load {loads[0]} → {loads[1]}; record: {len(signed)} of {len(ids)} customers signed (page 3 requests, API {len(RECORD_APIS)}; else 2 and {RECORD_APIS_PROSPECT}); "
        f"{2 * (runs + workers)} follow-ups logged and undone; page/API CPU: "
        + ", ".join(f"{k} {r['cpu_ratio']}×" for k, r in out.items())
    )
    return {"samples": [worst], "rate": True, "pages": out, "note": note}


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- The list, in the order they run (reads first, then writes, then the server) -----------------------

CASES: list[Case] = [
    Case("search_initials", "Search by pinyin initials (GET /api/v1/customers?q=zw)", case_search_initials, Target(30, "p95", "ms")),
    Case("search_phone", "Search by phone fragment (GET /api/v1/customers?q=1234)", case_search_phone, Target(30, "p95", "ms")),
    Case("customer_list", "Customer list, first page (GET /api/v1/customers)", case_customer_list),
    Case("customer_api", "Customer record (GET /api/v1/customers/{id})", case_customer_api, Target(50, "p95", "ms")),
    Case("customer_page", "Customer page with its panels (GET /customers/{id}/ …)", case_customer_page, Target(50, "p95", "ms")),
    Case("win_chance", "Win chance on the customer page, as a rep (GET /reports/customers/{id}/win/)", case_win_chance, Target(50, "p95", "ms")),
    Case("win_chance_region", "Win chance on the customer page, as the director", case_win_chance_region, Target(1000, "p95", "ms")),
    Case("agenda", "A rep's agenda (GET /api/v1/agenda)", case_agenda, Target(25, "p95", "ms", max_ratio=3)),
    Case("review_team", "Team review, 10-rep team (GET /api/v1/team/review)", case_review_team, Target(150, "p95", "ms"), True),
    Case("review_region", "Team review, whole region", case_review_region, Target(1000, "p95", "ms"), True),
    Case("funnel_team", "Funnel now, 10-rep team", case_funnel_team, Target(150, "p95", "ms"), True),
    Case("funnel_region", "Funnel now, whole region", case_funnel_region, Target(1000, "p95", "ms"), True),
    Case("funnel_team_past", "Funnel 90 days ago, 10-rep team", case_funnel_team_past, Target(150, "p95", "ms"), True),
    Case("funnel_region_past", "Funnel 90 days ago, whole region", case_funnel_region_past, Target(500, "p95", "ms"), True),
    Case("followup_insert", "Follow-up insert (pipeline.services.followup_log)", case_followup_insert, Target(15, "p95", "ms")),
    Case("followup_http", "Follow-up insert over HTTP (POST …/follow-ups)", case_followup_http),
    Case("recycling", "Daily recycling job (recycle_run)", case_recycling, Target(60, "median", "s")),
    Case("release_proposals", "Daily release proposals (release_proposals_refresh)", case_release_proposals),
    Case("incentives", "Incentive month (manage.py incentives --derive)", case_incentives, Target(30, "median", "s")),
    Case("import", "Customer CSV import (customers.importing.import_file)", case_import, Target(20000, "rate", "rows/s", True), True),
    Case("capacity", "Concurrent active users, p95 ≤ 200 ms, no errors (Locust working day)", case_capacity, Target(1000, "rate", "users", True)),
    Case("peer", "DjangoCRM 1.7.0 / Yixiang, comparable pages over HTTP (smallest ratio)", case_peer, Target(10, "rate", "×", True)),
    Case("pages", "Pages vs their API twins over HTTP, page CPU ÷ API CPU (largest; issue 17: ≤ 2)", case_pages),
    Case("throughput", "Agenda throughput, gunicorn + wrk (GET /api/v1/agenda)", case_throughput, Target(500, "rate", "req/s", True)),
]  # fmt: skip
