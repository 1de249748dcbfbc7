"""Run Yixiang's benchmark: generate the data set if needed, time every hot path, write the results.

    .venv/bin/python -m bench.run --customers 20000 --db sqlite
    .venv/bin/python -m bench.run --customers 100000 --db postgres --only agenda,search_phone
    make bench CUSTOMERS=100000 DB=postgres

Each benchmark runs in its own child process (its peak memory is that process's, and one failure
does not stop the others). Figures: median and p95 over repeated runs, a limit measured in the same
run and the ratio to it; results go to bench/results/<date>-<db>-<scale>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.common import ROOT, add_db_arguments, configure, db_label, machine_facts, peak_rss_mb

RESULTS_DIR = ROOT / "bench" / "results"


def scale_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=1_000_000, help="scale of the data set (default 1,000,000)")
    add_db_arguments(p)
    p.add_argument("--runs", type=int, default=40, help="timed runs per latency benchmark (default 40)")
    p.add_argument("--only", default="", help="comma-separated benchmark names")
    p.add_argument("--skip", default="", help="comma-separated benchmark names to leave out")
    p.add_argument("--import-rows", type=int, help="rows of the import CSV (default: --customers, at most 1,000,000)")
    p.add_argument("--throughput-seconds", type=int, default=10, help="length of each wrk run (default 10)")
    p.add_argument("--connections", type=int, default=16, help="concurrent wrk connections (default 16)")
    p.add_argument(
        "--capacity-steps", default="", help="user counts for the capacity case, e.g. 50,100,200 (default 25 … 2400)"
    )
    p.add_argument("--step-seconds", type=int, default=60, help="measured seconds per capacity step (default 60)")
    p.add_argument("--no-generate", action="store_true", help="use the database as it is")
    p.add_argument("--no-save", action="store_true", help="print only, write nothing to bench/results")
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the other benchmarks of today's results file for this database and scale; replace only those run now",
    )
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --- One benchmark, in a child process -----------------------------------------------------------


def run_child(args: argparse.Namespace) -> int:
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)  # force_login chatter
    from bench.cases import CASES, Ctx
    from bench.measure import NotAvailable, summary

    case = next(c for c in CASES if c.name == args.child)
    ctx = Ctx(
        customers=args.customers,
        runs=args.runs,
        db=db_label(),
        import_rows=args.import_rows or min(args.customers, 1_000_000),
        throughput_seconds=args.throughput_seconds,
        connections=args.connections,
        capacity_steps=[int(n) for n in args.capacity_steps.split(",") if n],
        step_seconds=args.step_seconds,
    )
    result: dict = {"name": case.name, "title": case.title}
    rss_before = peak_rss_mb()
    try:
        raw = case.run(ctx)
    except NotAvailable as exc:
        result.update(status="not available yet", note=str(exc))
    except Exception as exc:  # reported, not hidden: the table says "error" with the reason
        result.update(status="error", note=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    else:
        rate = raw.get("rate", False)
        scale = 1 if rate else 1000  # seconds → ms for timings
        stats = summary([s * scale for s in raw["samples"]])
        result.update(status="ok", unit="rows/s" if rate else "ms", stats=stats, rate=rate)
        if case.name == "throughput":
            result["unit"] = "req/s"
        if case.name == "capacity":
            result["unit"] = "users"
        if case.name in ("peer", "pages"):
            result["unit"] = "×"
        if raw.get("limit"):
            lim = raw["limit"]
            lstats = summary([s * scale for s in lim["samples"]])
            result["limit"] = {"what": lim["what"], "stats": lstats}
            if lstats.get("median"):
                result["ratio"] = lstats["median"] / stats["median"] if rate else stats["median"] / lstats["median"]
        if raw.get("limit_real_table"):  # the import's second floor (issue 17)
            lim = raw["limit_real_table"]
            result["limit_real_table"] = {"what": lim["what"], "stats": summary([s * scale for s in lim["samples"]])}
        if raw.get("cpu"):
            result["cpu_ms"] = summary([s * 1000 for s in raw["cpu"]])
        for key in ("queries", "rows", "note", "latency_ms", "db_replay_ms", "steps", "peer", "pages"):
            if key in raw:
                result[key] = raw[key]
        result["peak_rss_mb"] = raw.get("peak_rss_mb", peak_rss_mb())
        result["rss_at_start_mb"] = rss_before
        if case.target:
            result.update(judge(case, ctx.db, result))
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, default=str))
    return 0


def judge(case, db: str, result: dict) -> dict:
    from bench.cases import MEMORY_LIMIT_MB

    t = case.target.for_db(db)
    stats = result["stats"]
    if t.stat == "rate":
        figure = stats["median"]
        met = figure >= t.value
        by = figure / t.value
    else:
        figure = stats[t.stat] if t.unit == "ms" else stats[t.stat] / 1000
        met = figure <= t.value
        by = figure / t.value
    out = {"target": t.describe(), "target_figure": figure, "met": met, "vs_target": by}
    if t.max_ratio and result.get("ratio") is not None and result["ratio"] > t.max_ratio:
        out["met"] = False
        out["ratio_missed"] = True
    if case.memory_watch:
        out["memory_met"] = result["peak_rss_mb"] < MEMORY_LIMIT_MB
        out["met"] = out["met"] and out["memory_met"]
    return out


# --- The whole run ---------------------------------------------------------------------------------


def ensure_data(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    from yixiang.customers.models import Customer

    call_command("migrate", verbosity=0, interactive=False)
    have = Customer.objects.count()
    if have == args.customers or args.no_generate:
        return
    print(f"the database holds {have:,} customers, not {args.customers:,}: generating …", flush=True)
    # The generator's writer needs the SQLite file to itself (it turns the journal off while it
    # loads): an open connection here made it stop with "database is locked" on a fresh --data-dir.
    connection.close()
    cmd = [sys.executable, "-m", "bench.generate", "--customers", str(args.customers), "--force"]
    cmd += _db_args(args)
    subprocess.run(cmd, cwd=ROOT, check=True)


def _db_args(args: argparse.Namespace) -> list[str]:
    out = []
    if args.db:
        out += ["--db", args.db]
    if args.data_dir:
        out += ["--data-dir", args.data_dir]
    if args.database_url:
        out += ["--database-url", args.database_url]
    return out


def ensure_static() -> None:
    """Pages render {% static %} through the production manifest storage: collect once per data folder."""
    from django.conf import settings
    from django.core.management import call_command

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        print("collecting static files (once per data folder) …", flush=True)
        call_command("collectstatic", interactive=False, verbosity=0)


def dataset_facts() -> dict:
    from yixiang.accounts.models import Role, User
    from yixiang.aftercare.models import Contract, Payment, Payout
    from yixiang.customers.models import Customer
    from yixiang.pipeline.models import FollowUp, OwnerChange, StageChange

    return {
        "customers": Customer.objects.count(),
        "in_pool": Customer.objects.filter(owner__isnull=True).count(),
        "signed": Customer.objects.filter(stage=5).count(),
        "reps": User.objects.filter(role=Role.REP).count(),
        "follow_ups": FollowUp.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "owner_changes": OwnerChange.objects.count(),
        "contracts": Contract.objects.count(),
        "payouts": Payout.objects.count(),
        "payments": Payment.objects.count(),
    }


def fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "–"
    if unit == "ms":
        if v >= 10_000:
            return f"{v / 1000:,.1f} s"
        return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"
    if unit == "×":  # ratios (peer, pages): 1.8× is not 2×
        return f"{v:,.2f} {unit}"
    return f"{v:,.0f} {unit}"


def line(r: dict) -> str:
    name = f"{r['name']:<19}"
    if r["status"] != "ok":
        return f"{name} {r['status']}: {r.get('note', '')}"
    s, unit = r["stats"], r["unit"]
    if r.get("rate"):
        main = f"median {fmt_value(s['median'], unit):>14}  worst {fmt_value(s['min'], unit):>14}"
    else:
        main = f"median {fmt_value(s['median'], unit):>10}  p95 {fmt_value(s['p95'], unit):>10}"
    extra = ""
    if r.get("limit"):
        extra += f"  limit {fmt_value(r['limit']['stats']['median'], unit)}  ratio {r.get('ratio', 0):.1f}×"
    if "cpu_ms" in r:
        extra += f"  cpu {fmt_value(r['cpu_ms']['median'], 'ms')}"
    if "queries" in r:
        extra += f"  queries {r['queries']}"
    extra += f"  rss {r['peak_rss_mb']:.0f} MB"
    if "met" in r:
        extra += f"  [{r['target']}: {'MET' if r['met'] else 'MISSED'}]"
    return f"{name} {main}{extra}"


def results_stem(meta: dict) -> str:
    return f"{meta['date']}-{meta['db']}-{scale_label(meta['scale'])}"


def merged(meta: dict, results: list[dict], order: list[str]) -> list[dict]:
    """Today's earlier results for the same database and scale, with the benchmarks run now replacing
    theirs; each result keeps the git commit and load it was measured at, so a merged file stays honest."""
    path = RESULTS_DIR / f"{results_stem(meta)}.json"
    try:
        earlier = json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError):
        earlier = []
    fresh = {r["name"]: r for r in results}
    by_name = {r["name"]: r for r in earlier if r["name"] not in fresh} | fresh
    rank = {name: i for i, name in enumerate(order)}
    return sorted(by_name.values(), key=lambda r: rank.get(r["name"], len(rank)))


def write_results(meta: dict, results: list[dict]) -> tuple[Path, Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = results_stem(meta)
    jpath = RESULTS_DIR / f"{stem}.json"
    jpath.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1, default=str) + "\n")
    mpath = RESULTS_DIR / f"{stem}.md"
    mpath.write_text(markdown(meta, results))
    return jpath, mpath


def markdown(meta: dict, results: list[dict]) -> str:
    m, d = meta["machine"], meta["dataset"]
    out = [
        f"# Yixiang benchmark — {meta['db']}, {meta['scale']:,} customers — {meta['date']}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, Python {m['python']}, "
        f"Django {m['django']}, {m['database']}; {m['os']}.",
        f"Data set: {d['customers']:,} customers ({d['in_pool']:,} in the pool, {d['signed']:,} E-class), "
        f"{d['reps']:,} reps, {d['follow_ups']:,} follow-ups, {d['stage_changes']:,} stage changes, "
        f"{d['owner_changes']:,} owner changes, {d['contracts']:,} contracts, {d['payouts']:,} payouts, "
        f"{d['payments']:,} payments.",
        f"Command: `{meta['command']}` (git {meta['git']}); {meta['runs']} runs per latency figure; "
        f"load on the machine at start: {meta['loadavg']}.",
        *(
            ["Merged: some rows come from other runs of the same day; the notes give each row's commit and load."]
            if len({r.get("git", meta["git"]) for r in results}) > 1 or meta.get("merge")
            else []
        ),
        "Targets are the issue's, for 1,000,000 customers on SQLite (PostgreSQL: within 2×); "
        "a smaller data set meeting them does not prove the 1M figure.",
        "",
        "| benchmark | median | p95 / worst | limit (median) | ratio | target | met | CPU (median) | queries | peak RSS |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for r in results:
        if r["status"] != "ok":
            out.append(f"| {r['title']} | {r['status']} | | | | | | | | |")
            continue
        s, unit = r["stats"], r["unit"]
        second = s["min"] if r.get("rate") else s["p95"]
        lim = fmt_value(r["limit"]["stats"]["median"], unit) if r.get("limit") else "–"
        ratio = f"{r['ratio']:.1f}×" if r.get("ratio") else "–"
        met = "–" if "met" not in r else ("yes" if r["met"] else "**no**")
        cpu = fmt_value(r["cpu_ms"]["median"], "ms") if r.get("cpu_ms") else "–"
        out.append(
            f"| {r['title']} | {fmt_value(s['median'], unit)} | {fmt_value(second, unit)} | {lim} | {ratio} | "
            f"{r.get('target', '–')} | {met} | {cpu} | {r.get('queries', '–')} | {r['peak_rss_mb']:.0f} MB |"
        )
    out += ["", "Notes:", ""]
    for r in results:
        lim = f" Limit: {r['limit']['what']}." if r.get("limit") else ""
        when = f" (git {r['git']}, load {r['loadavg']})" if r.get("git") else ""
        out.append(f"- **{r['name']}**: {r.get('note', '')}.{lim}{when}")
    for r in results:
        out += _detail_tables(r)
    return "\n".join(out) + "\n"


def _detail_tables(r: dict) -> list[str]:
    """The capacity case's steps and the peer case's pairs, as tables under the notes."""
    out = []
    if r.get("steps"):
        out += [
            "",
            f"Capacity steps ({r['name']}):",
            "",
            "| users | req/s | median | p95 | p99 | failures | server CPU / request | load before |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for s in r["steps"]:
            cpu = s.get("server_cpu_ms_per_request")
            out.append(
                f"| {s['users']} | {s['rps']:.1f} | {s['median_ms']:.0f} ms | {s['p95_ms']:.0f} ms | {s['p99_ms']:.0f} ms | "
                f"{s['failures']} | {'–' if cpu is None else f'{cpu:.1f} ms'} | {s['loadavg']} |"
            )
        # Where the time goes: each page at the highest passing step (else the first step).
        best = [s for s in r["steps"] if s.get("passed")] or r["steps"][:1]
        if best and best[-1].get("pages"):
            s = best[-1]
            out += [
                "",
                f"Pages at {s['users']} users:",
                "",
                "| page | requests | median | p95 | p99 | failures |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for name, p in sorted(s["pages"].items(), key=lambda kv: -kv[1]["p95"]):
                out.append(
                    f"| {name} | {p['count']} | {p['p50']:.0f} ms | {p['p95']:.0f} ms | {p['p99']:.0f} ms | {p['failures']} |"
                )
            out += [f"- failed: {kind}" for kind in s.get("failure_kinds", [])]
    if r.get("peer"):
        out += [
            "",
            "DjangoCRM 1.7.0 beside Yixiang (interleaved, over HTTP, as rep0001):",
            "",
            "| pair | Yixiang median / p95 | DjangoCRM median / p95 | × wall | Yixiang CPU | DjangoCRM CPU | × CPU |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for p in r["peer"].values():
            y, q = p["yixiang_ms"], p["peer_ms"]
            out.append(
                f"| {p['title']} | {y['median']:.1f} / {y['p95']:.1f} ms | {q['median']:.1f} / {q['p95']:.1f} ms | "
                f"{p['ratio']}× | {p['yixiang_cpu_ms']:.1f} ms | {p['peer_cpu_ms']:.1f} ms | {p['cpu_ratio']}× |"
            )
    if r.get("pages"):
        out += [
            "",
            "Pages and their API twins (interleaved, over HTTP, as rep0001; CPU = the server's, per request):",
            "",
            "| pair | page median / p95 | API median / p95 | page CPU | API CPU | page ÷ API CPU (≤ 2) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for p in r["pages"].values():
            pg, a = p["page_ms"], p["api_ms"]
            out.append(
                f"| {p['title']} | {pg['median']:.1f} / {pg['p95']:.1f} ms | {a['median']:.1f} / {a['p95']:.1f} ms | "
                f"{p['page_cpu_ms']:.1f} ms | {p['api_cpu_ms']:.1f} ms | {p['cpu_ratio']}× |"
            )
    return out


def _loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else ""


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    configure(args, args.customers)
    if args.child:
        return run_child(args)
    from bench.cases import CASES

    if args.list:
        for c in CASES:
            print(f"{c.name:<20} {c.title}" + (f"  [target {c.target.describe()}]" if c.target else ""))
        return 0
    only = {n for n in args.only.split(",") if n}
    skip = {n for n in args.skip.split(",") if n}
    unknown = (only | skip) - {c.name for c in CASES}
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))} (see --list)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    ensure_data(args)
    ensure_static()
    from django.db import connection
    from django.utils import timezone

    meta = {
        "date": timezone.localdate().isoformat(),
        "db": db_label(),
        "scale": args.customers,
        "machine": machine_facts(),
        "dataset": dataset_facts(),
        "runs": args.runs,
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "loadavg": _loadavg(),
        "merge": args.merge,
    }
    order = [c.name for c in CASES]
    connection.close()
    m = meta["machine"]
    print(f"Yixiang benchmark: {meta['db']} {args.customers:,} customers — {m['cores']} cores, {m['memory_gb']} GB, "
          f"Python {m['python']}, {m['database']}", flush=True)  # fmt: skip
    results = []
    for case in CASES:
        if (only and case.name not in only) or case.name in skip:
            continue
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            out = tmp.name
        cmd = [
            sys.executable,
            "-m",
            "bench.run",
            "--child",
            case.name,
            "--out",
            out,
            "--customers",
            str(args.customers),
        ]
        cmd += ["--runs", str(args.runs), "--throughput-seconds", str(args.throughput_seconds)]
        cmd += ["--connections", str(args.connections)] + _db_args(args)
        cmd += ["--step-seconds", str(args.step_seconds)]
        if args.capacity_steps:
            cmd += ["--capacity-steps", args.capacity_steps]
        if args.import_rows:
            cmd += ["--import-rows", str(args.import_rows)]
        t0 = time.perf_counter()
        load_before = _loadavg()
        done = subprocess.run(cmd, cwd=ROOT, env=os.environ)
        try:
            result = json.loads(Path(out).read_text())
        except (OSError, ValueError):
            result = {
                "name": case.name,
                "title": case.title,
                "status": "error",
                "note": f"child exited {done.returncode}",
            }
        finally:
            Path(out).unlink(missing_ok=True)
        result["seconds"] = round(time.perf_counter() - t0, 1)
        result["git"], result["loadavg"] = meta["git"], load_before
        results.append(result)
        print(line(result), flush=True)
        if result["status"] == "ok" and result.get("note"):
            print(f"{'':<20}{result['note']}", flush=True)
        if result["status"] == "error" and result.get("traceback"):
            print(result["traceback"], file=sys.stderr, flush=True)
        meta["seconds"] = round(time.perf_counter() - started, 1)
        if not args.no_save:  # after every benchmark, so a long run cut short keeps what it measured
            write_results(meta, merged(meta, results, order) if args.merge else results)
    if not args.no_save:
        stem = RESULTS_DIR / results_stem(meta)
        print(f"results: {stem.relative_to(ROOT)}.json and .md", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
