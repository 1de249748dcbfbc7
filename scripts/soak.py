#!/usr/bin/env python3
"""Soak test: the production server (`manage.py serve`: gunicorn + the Huey worker) on a temporary
data folder with the demo company (`manage.py seed_demo`), under concurrent mixed load on loopback
for a set time: agenda reads (API and page), customer list and search, follow-up writes, claims
from the public pool (and releases, so the pool never runs dry). Prints requests, errors, latency
percentiles and the memory (RSS) of the gunicorn workers at the start and end.

    .venv/bin/python scripts/soak.py --seconds 60 [--clients 8] [--database-url postgres://…]

Without --database-url it never touches a real database: SQLite in the temporary folder. Every
request loop is bounded by time and by count; traffic goes to 127.0.0.1 only. Exit status 1 when
any request failed (a 5xx, a refused connection, an answer the operation never gives)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "yixiang-demo"  # noqa: S105 - the documented demo password (seed_demo)
REPS = [f"rep{i}" for i in range(1, 7)]
SEARCHES = ["王", "李", "张", "刘", "wang", "li", "zs", "138", "139", "公司", "餐饮", "上海"]
# Operation → (weight, statuses it may answer). Anything else counts as an error.
MIX = {
    "agenda": (30, {200}),
    "agenda_page": (8, {200}),
    "search": (18, {200}),
    "list": (10, {200}),
    "follow_up": (20, {201}),
    "pool": (6, {200}),
    "claim": (6, {200, 404, 409}),  # lost to another rep (409/404) or over the daily limit (409)
    "release": (2, {200, 409}),  # 409: already back in the pool
}


# --- Processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the parent id follows the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_mb(pid: int) -> float | None:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def server_processes(serve_pid: int) -> tuple[list[int], list[int]]:
    """(gunicorn worker pids, Huey worker pids) under the `serve` command."""
    workers, huey = [], []
    for child in children(serve_pid):
        cmd = cmdline(child)
        if "gunicorn" in cmd:
            workers.extend(children(child))
        elif "run_huey" in cmd:
            huey.append(child)
    return workers, huey


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before answering")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", "/login/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer within {timeout:.0f}s")


# --- Load ---------------------------------------------------------------------------------------


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, op: str, status: int, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.times[op].append(seconds)
            self.statuses[op][status] += 1
            if status not in MIX[op][1]:
                self.errors[op] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{op} → {status} {detail[:200]}")


class Client:
    """One person: an API token, a logged-in browser session, a keep-alive connection."""

    def __init__(self, base: str, username: str, stats: Stats, rnd: random.Random) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.username, self.stats, self.rnd = username, stats, rnd
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.claimed: list[int] = []
        self.token = ""
        self.own: list[int] = []

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes, dict]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                for value in resp.headers.get_all("Set-Cookie") or []:
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
                return resp.status, data, dict(resp.headers)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: reconnect once, like a browser.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def api(self, method: str, path: str, data=None) -> tuple[int, object, float]:
        body = None if data is None else json.dumps(data).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        status, raw, _ = self._send(method, path, body, headers)
        took = time.perf_counter() - started
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:200].decode("utf-8", "replace")
        return status, parsed, took

    def page(self, path: str) -> tuple[int, float]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        status, _, _ = self._send("GET", path, None, {"Cookie": cookie})
        return status, time.perf_counter() - started

    def sign_in(self) -> None:
        status, data, _ = self.api("POST", "/api/v1/auth/token", {"username": self.username, "password": DEMO_PASSWORD})
        if status != 200:
            raise SystemExit(f"cannot get a token for {self.username}: {status} {data}")
        self.token = data["token"]
        status, data, _ = self.api("GET", "/api/v1/customers?owner=mine&page_size=200")
        self.own = [c["id"] for c in data["items"]]
        if not self.own:
            raise SystemExit(f"{self.username} has no customers: is the demo data loaded?")
        # The browser session: the login form with its CSRF token.
        self.page("/login/")
        form = urllib.parse.urlencode(
            {"username": self.username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
        ).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        status, _, _ = self._send("POST", "/login/", form, headers)
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"cannot log {self.username} in through the form: {status}")

    def one(self, op: str) -> None:
        rnd = self.rnd
        if op == "agenda":
            status, data, took = self.api("GET", "/api/v1/agenda")
        elif op == "agenda_page":
            status, took = self.page("/agenda/")
            data = ""
        elif op == "search":
            q = urllib.parse.quote(rnd.choice(SEARCHES))
            status, data, took = self.api("GET", f"/api/v1/customers?q={q}&page_size=20")
        elif op == "list":
            status, data, took = self.api("GET", f"/api/v1/customers?page={rnd.randint(1, 3)}&page_size=50")
        elif op == "follow_up":
            customer = rnd.choice(self.own)
            payload = {"summary": rnd.choice(["回访", "客户在开会，约明天", "问了价格"]), "channel": "phone"}
            status, data, took = self.api("POST", f"/api/v1/customers/{customer}/follow-ups", payload)
        elif op == "pool":
            status, data, took = self.api("GET", "/api/v1/pool?page_size=50")
        elif op == "claim":
            status, data, took = self.api("GET", "/api/v1/pool?page_size=50")
            items = data.get("items") if isinstance(data, dict) else None
            if status != 200 or not items:
                self.stats.add("pool", status, took, str(data))
                return
            target = rnd.choice(items)["id"]
            status, data, took = self.api("POST", f"/api/v1/customers/{target}/claim")
            if status == 200:
                self.claimed.append(target)
        elif op == "release":
            if not self.claimed:
                return
            target = self.claimed.pop(0)
            status, data, took = self.api("POST", f"/api/v1/customers/{target}/release", {"reason": "no_rise"})
        else:
            raise ValueError(op)
        self.stats.add(op, status, took, json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data)


def load(clients: list[Client], stats: Stats, *, until: float, max_requests: int, think: float) -> None:
    """Every client sends requests in a loop until the time is up or it sent max_requests."""
    ops, weights = list(MIX), [w for w, _ in MIX.values()]
    for c in clients:
        c.stats = stats

    def run(client: Client) -> None:
        for _ in range(max_requests):
            if time.monotonic() >= until:
                return
            op = client.rnd.choices(ops, weights)[0]
            try:
                client.one(op)
            except (OSError, http.client.HTTPException) as exc:
                client.stats.add(op, 0, 0.0, repr(exc))
            if think:
                time.sleep(client.rnd.uniform(0, 2 * think))

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, until - time.monotonic() + 60))


# --- Figures ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def figures(stats: Stats, seconds: float, rss_start: dict, rss_end: dict, meta: dict) -> dict:
    every = [t for ts in stats.times.values() for t in ts]
    ops = {
        op: {
            "count": len(ts),
            "errors": stats.errors.get(op, 0),
            "statuses": {str(k): v for k, v in sorted(stats.statuses[op].items())},
            "p50_ms": round(percentile(ts, 0.5) * 1000, 1),
            "p95_ms": round(percentile(ts, 0.95) * 1000, 1),
            "max_ms": round(max(ts) * 1000, 1) if ts else 0.0,
        }
        for op, ts in sorted(stats.times.items())
    }
    web_start = sum(v for k, v in rss_start.items() if k.startswith("web")) if rss_start else 0.0
    web_end = sum(v for k, v in rss_end.items() if k.startswith("web")) if rss_end else 0.0
    return {
        **meta,
        "seconds": round(seconds, 1),
        "requests": len(every),
        "per_second": round(len(every) / seconds, 1) if seconds else 0.0,
        "errors": sum(stats.errors.values()),
        "error_samples": stats.samples,
        "p50_ms": round(percentile(every, 0.5) * 1000, 1),
        "p95_ms": round(percentile(every, 0.95) * 1000, 1),
        "p99_ms": round(percentile(every, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(every) * 1000, 1) if every else 0.0,
        "ops": ops,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "web_rss_start_mb": round(web_start, 1),
        "web_rss_end_mb": round(web_end, 1),
        "web_rss_growth_mb": round(web_end - web_start, 1),
    }


def report(r: dict) -> None:
    print(f"\nYixiang soak — {r['seconds']} s, {r['clients']} clients, {r['web_workers']} web workers, {r['database']}")
    print(f"requests {r['requests']} ({r['per_second']}/s), errors {r['errors']}")
    print(f"latency ms: p50 {r['p50_ms']}  p95 {r['p95_ms']}  p99 {r['p99_ms']}  mean {r['mean_ms']}")
    print(f"{'operation':<12} {'count':>7} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
    for op, o in r["ops"].items():
        print(
            f"{op:<12} {o['count']:>7} {o['errors']:>6} {o['p50_ms']:>8} {o['p95_ms']:>8} {o['max_ms']:>8}"
            f"  {o['statuses']}"
        )
    print("RSS MB (after warm-up → end):")
    for name in sorted(set(r["rss_start_mb"]) | set(r["rss_end_mb"])):
        print(f"  {name:<16} {r['rss_start_mb'].get(name, '-'):>8} → {r['rss_end_mb'].get(name, '-')}")
    print(f"  web workers total {r['web_rss_start_mb']} → {r['web_rss_end_mb']} ({r['web_rss_growth_mb']:+} MB)")
    for sample in r["error_samples"]:
        print(f"  error: {sample}")


def memory(serve_pid: int) -> dict[str, float]:
    workers, huey = server_processes(serve_pid)
    out = {f"web {pid}": rss_mb(pid) for pid in workers}
    out.update({f"huey {pid}": rss_mb(pid) for pid in huey})
    return {k: round(v, 1) for k, v in out.items() if v is not None}


# --- Main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60, help="measured load time (after warm-up)")
    p.add_argument("--warmup", type=float, default=None, help="load before the memory baseline (default: 20%%, ≤10 s)")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--web-workers", type=int, default=2)
    p.add_argument("--think-ms", type=float, default=5, help="mean pause between a client's requests")
    p.add_argument("--max-requests", type=int, default=200_000, help="per client, a bound besides the time")
    p.add_argument("--database-url", default="", help="default: SQLite in the temporary data folder")
    p.add_argument("--data-dir", default="", help="default: a new temporary folder, removed afterwards")
    p.add_argument("--json", default="", help="also write the figures to this file")
    p.add_argument("--seed", type=int, default=8)
    args = p.parse_args(argv)

    own_dir = not args.data_dir
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="yixiang-soak-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUEY_IMMEDIATE", "YIXIANG_TESTING"}}
    # One machine: its keys may live in its data folder even on PostgreSQL.
    env.update(YIXIANG_DATA_DIR=str(data_dir), DEBUG="0", PYTHONUNBUFFERED="1", YIXIANG_SINGLE_NODE="1")
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    database = urllib.parse.urlsplit(args.database_url).scheme or "sqlite"
    warmup = args.warmup if args.warmup is not None else min(10.0, args.seconds * 0.2)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(data_dir / "serve.log", "w")  # noqa: SIM115 - closed in finally
    serve = None
    try:
        print(f"soak: preparing {data_dir} ({database})", flush=True)
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--noinput", "-v0")
        cmd = [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", str(args.web_workers)]
        serve = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        wait_ready(base, serve)
        warm, stats = Stats(), Stats()
        clients = [
            Client(base, REPS[i % len(REPS)], warm, random.Random(args.seed * 1000 + i))  # noqa: S311
            for i in range(args.clients)
        ]
        for c in clients:
            c.sign_in()
        print(f"soak: warm-up {warmup:.0f} s, then {args.seconds:.0f} s of load", flush=True)
        think = args.think_ms / 1000
        load(clients, warm, until=time.monotonic() + warmup, max_requests=args.max_requests, think=think)
        # The figures cover the measured part; the memory baseline is taken once the caches are warm.
        rss_start = memory(serve.pid)
        started = time.monotonic()
        load(clients, stats, until=started + args.seconds, max_requests=args.max_requests, think=think)
        elapsed = time.monotonic() - started
        rss_end = memory(serve.pid)
        meta = {"clients": args.clients, "web_workers": args.web_workers, "database": database}
        result = figures(stats, elapsed, rss_start, rss_end, meta)
        result["warmup_requests"] = sum(len(t) for t in warm.times.values())
        result["errors"] += sum(warm.errors.values())
        result["error_samples"] += warm.samples
        result["web_workers_restarted"] = sorted(k for k in rss_start if k.startswith("web") and k not in rss_end)
        if result["web_workers_restarted"]:
            result["errors"] += len(result["web_workers_restarted"])
            result["error_samples"].append(f"web workers gone: {result['web_workers_restarted']}")
        both = (warm, stats)
        result["follow_ups_written"] = sum(s.statuses["follow_up"].get(201, 0) for s in both)
        result["claims_won"] = sum(s.statuses["claim"].get(200, 0) for s in both)
        result["releases_done"] = sum(s.statuses["release"].get(200, 0) for s in both)
        report(result)
        if args.json:
            Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
        return 1 if result["errors"] else 0
    finally:
        if serve is not None and serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait(timeout=10)
        log.close()
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
