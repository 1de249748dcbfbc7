"""Time the migration import of a follow-up history (issue 16): N rows from a CSV with Chinese headers.

    .venv/bin/python -m bench.history_import --db sqlite [--rows 100000] [--customers 10000]
    .venv/bin/python -m bench.history_import --db postgres --database-url postgres://…/yx_bench_history
    .venv/bin/python -m bench.history_import --db sqlite --rows 5000 --profile     # cProfile, top 30

A database of its own (SQLite: $YIXIANG_BENCH_DIR/history-sqlite/; PostgreSQL: --database-url,
default ``yixiang_bench_history``), migrated, with an admin, 20 reps and ``--customers`` customers
(owned, stage 0, never contacted). The file: 10 follow-ups per customer (rows = customers × 10 by
default) over the last two years, a rep's judgment after each (the stage walks up and sometimes back,
half the rows keep the stage), playbook signals on some rises, notes in Chinese, 85 % effective,
~0.1 % rows with a channel nobody knows (line-numbered errors). Rows are written customer by customer,
not in time order (the import sorts). Each run starts from the customers with no history.

Prints and (``--save``) records in ``bench/results/<date>-<db>-history-import.{json,md}``: rows/s,
wall time, this process's CPU time (all the work on SQLite; without the server's on PostgreSQL),
the 1-minute load average before and after, and the job's counts; then a re-import of the same file
(every row a duplicate) and a dry run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

from bench.common import BENCH_TMP, ROOT, configure, db_label, machine_facts

HEADER = ["档案编号", "跟进时间", "跟进方式", "是否有效", "跟进后阶段", "信号", "跟进内容", "跟进人"]
CHANNELS = ["电话"] * 14 + ["微信"] * 3 + ["短信", "拜访", "邮件"]
STAGE_TEXT = {-1: "拒绝", 0: "0阶段", 1: "1阶段", 2: "2阶段", 3: "3阶段", 4: "4阶段"}
NOTES = {
    -1: ["客户表示暂时不需要，语气冷淡。", "一开口就说不需要，挂了电话。"],
    0: ["客户在开会，约好下周再打；不太了解我们的产品。", "客户没听说过我们，同意下次再联系。"],
    1: ["客户愿意听介绍，回答了几个问题，认同我们的分析。", "聊了二十分钟，客户有问必答。"],
    2: ["客户问效果怎么样，和同行比较了一下，想了解怎么做。", "客户问售后服务和同行案例。"],
    3: ["客户询问价格和优惠，问预存多久能用完，售后怎么样。", "客户问什么时候能上线，要求减免开户费。"],
    4: ["客户确认要签，在考虑预存金额，约好下周带合同过去。", "老板出差，回来就签；金额还在商量。"],
}
REPS = 20


def seed(customers: int) -> None:
    """Admin, reps and the customers, unless the database already holds exactly these."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from yixiang.accounts.models import Role, User
    from yixiang.customers.models import Customer

    if Customer.objects.count() == customers and User.objects.filter(username="bench_admin").exists():
        return
    if Customer.objects.exclude(archive_no__startswith="H").exists():
        sys.exit("This database holds other customers: give the benchmark a database of its own.")
    reset()
    Customer.objects.all().delete()  # another scale of this benchmark's own
    User.objects.filter(username__in=["bench_admin", *(f"hrep{i:02d}" for i in range(REPS))]).delete()
    password = make_password(None)  # unusable: nobody logs in
    with transaction.atomic():
        User.objects.create(username="bench_admin", role=Role.ADMIN, password=password, is_staff=True)
        reps = [
            User.objects.create(
                username=f"hrep{i:02d}", display_name=f"业务员{i:02d}", role=Role.REP, password=password
            )
            for i in range(REPS)
        ]
        rnd = random.Random(5)  # noqa: S311 (test data)
        surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚"
        batch = []
        for i in range(customers):
            name = rnd.choice(surnames) + rnd.choice(given) + rnd.choice(given)
            batch.append(
                Customer(
                    name=name,
                    archive_no=f"H{i + 1:07d}",
                    phone=f"139{i:08d}",
                    phone_normalized=f"+86139{i:08d}",
                    owner=reps[i % REPS],
                    created_by=reps[i % REPS],
                )
            )
        Customer.objects.bulk_create(batch, batch_size=2000)


def reset() -> None:
    """Every customer back to no history (what a run wrote is removed)."""
    from django.db import connection, transaction

    from yixiang.customers.models import Customer, CustomerChange, ImportJob
    from yixiang.pipeline.models import FollowUp, StageChange

    with transaction.atomic(), connection.cursor() as cur:
        for model in (StageChange, CustomerChange, FollowUp):
            cur.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        Customer.objects.update(
            stage=0, grade="", last_contact_at=None, next_due_on=None, stage_rose_at=None, version=1
        )
        ImportJob.objects.all().delete()


def write_history(path: Path, customers: int, per_customer: int, seed_: int = 11) -> int:
    """The follow-up history file; returns its row count."""
    from django.utils import timezone

    from yixiang.pipeline.playbook import get_playbook

    by_stage: dict[int, list[str]] = {}
    for code, stage in get_playbook().signal_stage.items():
        by_stage.setdefault(stage, []).append(code)
    rnd = random.Random(seed_)  # noqa: S311 (test data)
    today = timezone.localdate()
    n = 0
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(customers):
            stage = 0
            days = sorted(rnd.sample(range(2, 730), per_customer), reverse=True)
            for ago in days:
                moved = rnd.random() < 0.5
                if moved:
                    stage = max(-1, min(4, stage + rnd.choice((1, 1, 1, -1, 0))))
                signals = by_stage.get(stage, []) if moved and rnd.random() < 0.6 else []
                channel = CHANNELS[int(rnd.random() * len(CHANNELS))]
                if rnd.random() < 0.001:
                    channel = "飞鸽传书"
                hh, mm = 9 + int(rnd.random() * 10), int(rnd.random() * 60)
                w.writerow(
                    [
                        f"H{i + 1:07d}",
                        f"{today - dt.timedelta(days=ago):%Y-%m-%d} {hh:02d}:{mm:02d}",
                        channel,
                        "是" if rnd.random() < 0.85 else "否",
                        STAGE_TEXT[stage] if moved else "",
                        "、".join(signals[:2]),
                        rnd.choice(NOTES[stage]),
                        f"hrep{i % REPS:02d}",
                    ]
                )
                n += 1
    return n


def run_once(path: Path, *, dry_run: bool = False) -> dict:
    from yixiang.accounts.models import User
    from yixiang.customers import importing

    admin = User.objects.get(username="bench_admin")
    load_before = os.getloadavg()[0]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    job = importing.import_file(path, actor=admin, owner=None, kind="followups", dry_run=dry_run)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if job.status != "done":
        raise RuntimeError(f"import ended {job.status}: {job.message}")
    return {
        "rows": job.processed_rows,
        "rows_per_s": round(job.processed_rows / wall, 1),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "load1_before": round(load_before, 2),
        "load1_after": round(os.getloadavg()[0], 2),
        "created": job.created_count,
        "duplicates": job.skipped_count,
        "errors": job.error_count,
        "dry_run": dry_run,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/yixiang_bench_history")
    p.add_argument("--customers", type=int, default=10_000)
    p.add_argument("--rows", type=int, help="rows of the file (default customers × 10)")
    p.add_argument("--profile", action="store_true", help="cProfile the first import, print the top 30")
    p.add_argument("--only-first", action="store_true", help="no re-import and no dry run")
    p.add_argument("--save", action="store_true", help="write bench/results/<date>-<db>-history-import-<rows>.*")
    p.add_argument("--label", default="", help="a word for the results file name (before, after…)")
    args = p.parse_args()
    per = max(1, (args.rows or args.customers * 10) // args.customers)
    args.data_dir = str(BENCH_TMP / ("history-sqlite" if args.db == "sqlite" else "history-pg"))
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    configure(args, args.customers)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.customers)
    reset()
    path = Path(args.data_dir) / f"history-{args.customers}x{per}.csv"
    rows = write_history(path, args.customers, per)
    print(f"{db_label()}: {rows:,} rows for {args.customers:,} customers in {path}", flush=True)

    runs = []
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile(time.process_time)  # CPU, not the wall of a shared machine
        prof.enable()
        runs.append(run_once(path))
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    else:
        runs.append(run_once(path))
    print("first import:", runs[-1], flush=True)
    if not args.only_first:
        runs.append(run_once(path))
        print("re-import:  ", runs[-1], flush=True)
        reset()
        runs.append(run_once(path, dry_run=True))
        print("dry run:    ", runs[-1], flush=True)
    reset()

    if args.save:
        import subprocess

        from django.utils import timezone

        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
        ).stdout.strip()
        label = f"-{args.label}" if args.label else ""
        stem = ROOT / "bench" / "results" / f"{timezone.localdate()}-{db_label()}-history-import-{rows // 1000}k{label}"
        result = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "commit": commit,
            "machine": machine_facts(),
            "data": {"customers": args.customers, "rows": rows, "per_customer": per},
            "runs": runs,
        }
        stem.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        names = ("first import", "re-import (all duplicates)", "dry run")
        lines = [
            f"# History import, {db_label()}, {rows:,} follow-up rows ({args.customers:,} customers × {per})",
            "",
            f"{result['date']} UTC, commit {commit}, {result['machine']['cores']} cores "
            f"({result['machine']['cpu']}), {result['machine']['database']}. Command: "
            f"`.venv/bin/python -m bench.history_import --db {args.db} --save`",
            "",
            "| run | rows/s | wall s | CPU s | load 1 min before/after | created | duplicates | errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, r in zip(names, runs, strict=False):
            lines.append(
                f"| {name} | {r['rows_per_s']:,} | {r['wall_s']} | {r['cpu_s']} | "
                f"{r['load1_before']}/{r['load1_after']} | {r['created']:,} | {r['duplicates']:,} | {r['errors']:,} |"
            )
        lines += [
            "",
            "CPU is this process's CPU time: on SQLite all of the work, on PostgreSQL without the server's share.",
        ]
        stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
        print("saved", stem.with_suffix(".md"))


if __name__ == "__main__":
    main()
