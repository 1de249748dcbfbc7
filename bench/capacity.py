"""Capacity: how many concurrently active users one box serves (p95 ≤ 200 ms, no errors).

The load model is ``bench/locustfile.py`` (a working day: reps, team leads, directors, with think
times). This drives it headless against the production server (``manage.py serve``: gunicorn,
workers = cores) at increasing user counts, one locust run per count (spawned over ~10 s, statistics
reset once every user runs, then ``step_seconds`` measured), and stops at the first count that
misses; one more run halfway between the last pass and that miss narrows the figure.

The accounts are real bench users with a real session (made as ``login`` makes one, without paying
the password hash per virtual user: the day's users are already logged in) and a real API token.
Follow-ups logged during the run are undone afterwards, so runs can be repeated on the same data.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench.common import ROOT
from bench.http import Server

P95_LIMIT_MS = 200.0
DEFAULT_STEPS = (25, 50, 100, 200, 400, 800, 1200, 1600, 2400)
_RESTORE = ("stage", "grade", "expected_sign_month", "last_contact_at", "next_due_on", "version", "updated_at")
TOKEN_NAME = "bench-capacity"  # noqa: S105 (a token's label, not a secret)


@dataclass
class Accounts:
    path: Path
    customer_ids: list[int]  # the customers follow-ups may be logged on (restored afterwards)
    session_keys: list[str]
    counts: dict[str, int]


def prepare_accounts(out: Path, *, per_rep: int = 30) -> Accounts:
    """Sessions, tokens, customers and search keys for every active rep, lead and director."""
    from yixiang.accounts.models import Role, User
    from yixiang.accounts.services import api_token_create
    from yixiang.customers.models import Customer
    from yixiang.pipeline.rules import SIGNED

    data: dict[str, list[dict]] = {"rep": [], "lead": [], "director": []}
    log_ids: list[int] = []
    keys: list[str] = []
    roles = {Role.REP: "rep", Role.LEAD: "lead", Role.DIRECTOR: "director"}
    for user in User.objects.filter(is_active=True, role__in=list(roles)).order_by("username"):
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        keys.append(session)
        entry = {
            "username": user.username,
            "cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
            "token": api_token_create(user=user, name=TOKEN_NAME),
        }
        if user.role == Role.REP:
            mine = Customer.objects.filter(owner=user, deleted_at__isnull=True)
            rows = list(mine.order_by("?").values_list("pk", "stage", "name_initials", "phone_normalized")[:200])
            if not rows:
                continue
            entry["customers"] = [r[0] for r in rows[:per_rep]]
            # Their pages load the after-sale panel too (customers/detail.html: signed customers only).
            entry["signed"] = [r[0] for r in rows[:per_rep] if r[1] == SIGNED]
            entry["log_on"] = [r[0] for r in rows if 0 <= r[1] <= 4][:per_rep] or entry["customers"][:1]
            pool = Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True).order_by("?")
            pool_rows = list(pool.values_list("name_initials", "phone_normalized")[:10])
            search = [r[2] for r in rows[:10] if r[2] and len(r[2]) >= 2]
            search += [r[3][-4:] for r in rows[:10] if r[3]]
            search += [r[0] for r in pool_rows if r[0] and len(r[0]) >= 2] + [r[1][-4:] for r in pool_rows if r[1]]
            entry["search"] = search
            log_ids += entry["log_on"]
        data[roles[user.role]].append(entry)
    out.write_text(json.dumps(data, ensure_ascii=False))
    return Accounts(out, sorted(set(log_ids)), keys, {k: len(v) for k, v in data.items()})


class Undo:
    """What the run writes (follow-ups, stage changes, customer fields, tokens, sessions), put back."""

    def __init__(self, customer_ids: list[int]):
        from yixiang.customers.models import Customer
        from yixiang.pipeline.models import FollowUp, StageChange

        self.ids = customer_ids
        self.before = list(Customer.objects.filter(pk__in=customer_ids).only(*_RESTORE))
        self.fu_mark = FollowUp.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.sc_mark = StageChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.started = timezone.now()

    def __call__(self, session_keys: list[str]) -> int:
        from django.contrib.sessions.models import Session

        from yixiang.accounts.models import ApiToken
        from yixiang.customers.models import Customer, CustomerChange
        from yixiang.pipeline.models import FollowUp, StageChange

        with transaction.atomic():
            StageChange.objects.filter(pk__gt=self.sc_mark).delete()
            logged, _ = FollowUp.objects.filter(pk__gt=self.fu_mark).delete()
            CustomerChange.objects.filter(customer_id__in=self.ids, at__gte=self.started).delete()
            Customer.objects.bulk_update(self.before, list(_RESTORE), batch_size=500)
            ApiToken.objects.filter(name=TOKEN_NAME).delete()
            Session.objects.filter(session_key__in=session_keys).delete()
        return logged


def _cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children (the gunicorn master and its workers)."""
    import psutil

    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_step(base: str, users: int, seconds: int, accounts: Path, workdir: Path, server_pid: int) -> dict:
    """One headless locust run at ``users`` concurrent users; its aggregate and per-page figures."""
    spawn = max(1.0, users / 10)
    ramp = users / spawn
    prefix = workdir / f"step-{users}"
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"]
    cmd += ["-u", str(users), "-r", f"{spawn:g}", "-t", f"{int(ramp + seconds + 1)}s", "--reset-stats"]
    cmd += ["--host", base, "--csv", str(prefix), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"]
    env = {**os.environ, "BENCH_LOCUST_USERS": str(accounts)}
    load_before = _loadavg()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The server's CPU time over the measured window only (statistics reset once all users run).
    time.sleep(ramp + 0.5)
    server_cpu0, window0 = _cpu_seconds(server_pid), time.monotonic()
    try:
        out, err = proc.communicate(timeout=seconds + 120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    server_cpu = _cpu_seconds(server_pid) - server_cpu0
    window = time.monotonic() - window0
    wall = time.monotonic() - started
    rows = _read_stats(Path(f"{prefix}_stats.csv"))
    agg = rows.pop("Aggregated", None)
    if agg is None or not agg["count"]:
        raise RuntimeError(f"locust wrote no statistics (exit {proc.returncode}): {err[-2000:]}")
    failures = _read_failures(Path(f"{prefix}_failures.csv"))
    return {
        "users": users,
        "requests": agg["count"],
        "failures": agg["failures"],
        "rps": agg["rps"],
        "median_ms": agg["p50"],
        "p95_ms": agg["p95"],
        "p99_ms": agg["p99"],
        "max_ms": agg["max"],
        "passed": agg["failures"] == 0 and agg["p95"] <= P95_LIMIT_MS and agg["count"] > 0,
        "pages": rows,
        "failure_kinds": failures[:5],
        "server_cpu_ms_per_request": round(1000 * server_cpu / agg["count"], 2),
        "server_cpu_share": round(server_cpu / window, 2),  # cores the server kept busy
        "loadavg": load_before,
        "seconds": round(wall, 1),
    }


def _read_stats(path: Path) -> dict[str, dict]:
    out = {}
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            num = _numbers(r)
            out[r["Name"]] = {
                "count": int(num("Request Count")),
                "failures": int(num("Failure Count")),
                "rps": round(num("Requests/s"), 1),
                "p50": num("50%"),
                "p95": num("95%"),
                "p99": num("99%"),
                "max": round(num("Max Response Time"), 1),
            }
    return out


def _numbers(row: dict[str, str]):
    def num(key: str) -> float:
        v = row.get(key) or "0"
        return float(v) if v not in ("N/A", "") else 0.0

    return num


def _read_failures(path: Path) -> list[str]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return [f"{r['Occurrences']}× {r['Name']}: {r['Error'][:160]}" for r in csv.DictReader(fh)]


def find_capacity(
    *,
    steps: list[int],
    seconds: int,
    workers: int,
    log: Path,
    report=print,
) -> dict:
    """Run the steps, stop at the first miss, narrow once; the highest passing user count."""
    workdir = Path(settings.DATA_DIR) / "capacity"
    workdir.mkdir(parents=True, exist_ok=True)
    acc = prepare_accounts(workdir / "accounts.json")
    undo = Undo(acc.customer_ids)
    connection.close()  # the server processes get the database to themselves
    results: list[dict] = []
    try:
        with Server(workers, log) as server:
            cookie = json.loads(acc.path.read_text())["rep"][0]["cookie"]
            server.wait_ready("/agenda/", {"Cookie": cookie})
            pid = server.proc.pid
            run_step(server.base, 5, 10, acc.path, workdir, pid)  # warm-up: imports, caches, templates
            last_pass, first_fail = 0, None
            for users in steps:
                r = run_step(server.base, users, seconds, acc.path, workdir, pid)
                results.append(r)
                report(_step_line(r))
                if r["passed"]:
                    last_pass = users
                else:
                    first_fail = users
                    break
            if first_fail and first_fail - last_pass > max(10, last_pass // 4) and last_pass:
                mid = (last_pass + first_fail) // 2
                r = run_step(server.base, mid, seconds, acc.path, workdir, pid)
                results.append(r)
                report(_step_line(r))
                if r["passed"]:
                    last_pass = mid
                else:
                    first_fail = mid
    finally:
        logged = undo(acc.session_keys)
    return {
        "capacity": last_pass,
        "cpu_ceiling": cpu_ceiling(results, workers),
        "first_miss": first_fail,
        "steps": results,
        "accounts": acc.counts,
        "followups_undone": logged,
    }


def cpu_ceiling(steps: list[dict], cores: int) -> int | None:
    """Users the server's CPU alone could carry if it had every core: cores / (CPU per request ×
    requests per user per second), from the largest step that ran. An upper bound on a quiet box,
    not a measured figure (no queueing, no load generator, no neighbours)."""
    ran = [s for s in steps if s["requests"] and s["server_cpu_ms_per_request"]]
    if not ran:
        return None
    s = ran[-1]
    per_user = s["rps"] / s["users"]
    return int(cores * 1000 / (s["server_cpu_ms_per_request"] * per_user))


def _step_line(r: dict) -> str:
    verdict = "pass" if r["passed"] else "MISS"
    cpu = r["server_cpu_ms_per_request"]
    return (
        f"  {r['users']:>5} users: {r['rps']:>6.1f} req/s  median {r['median_ms']:.0f} ms  p95 {r['p95_ms']:.0f} ms  "
        f"p99 {r['p99_ms']:.0f} ms  failures {r['failures']}  "
        + (f"server CPU {cpu:.1f} ms/req  " if cpu else "")
        + f"load {r['loadavg']}  [{verdict}]"
        + "\n      p95 by page: "
        + ", ".join(
            f"{name} {p['p95']:.0f}" for name, p in sorted(r.get("pages", {}).items(), key=lambda kv: -kv[1]["p95"])
        )
        + "".join(f"\n      failed: {kind}" for kind in r.get("failure_kinds", []))
    )
