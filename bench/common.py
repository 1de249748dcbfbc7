"""Plumbing shared by the generator and the benchmarks: which database, Django set-up, machine facts."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/yixiang_bench"
# Scratch space for SQLite databases and the data folders (keys, Huey file, static files).
BENCH_TMP = Path(os.environ.get("YIXIANG_BENCH_DIR", "/tmp/yixiang-bench"))  # noqa: S108 (scratch data)


def add_db_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgres"],
        help="sqlite: a scratch data folder per scale under $YIXIANG_BENCH_DIR (default /tmp/yixiang-bench); "
        f"postgres: --database-url (default {DEFAULT_PG_URL}). Without --db the environment's DATABASE_URL / "
        "YIXIANG_DATA_DIR are used as they are.",
    )
    parser.add_argument("--data-dir", help="YIXIANG_DATA_DIR to use (overrides the scratch default)")
    parser.add_argument("--database-url", help="PostgreSQL URL for --db postgres")


def configure(args: argparse.Namespace, customers: int) -> None:
    """Point the environment at the benchmark database, then set Django up (production settings)."""
    if args.db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ["YIXIANG_DATA_DIR"] = args.data_dir or str(BENCH_TMP / f"sqlite-{customers}")
    elif args.db == "postgres":
        os.environ["DATABASE_URL"] = args.database_url or DEFAULT_PG_URL
        os.environ["YIXIANG_DATA_DIR"] = args.data_dir or str(BENCH_TMP / "pg")
    elif args.data_dir:
        os.environ["YIXIANG_DATA_DIR"] = args.data_dir
    # One machine: its keys may live in its data folder even on PostgreSQL (settings refuse that
    # for cluster nodes unless told).
    os.environ.setdefault("YIXIANG_SINGLE_NODE", "1")
    # The benchmark measures the production configuration, never the test shortcuts.
    for name in ("YIXIANG_TESTING", "HUEY_IMMEDIATE", "DEBUG"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "yixiang.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()


def db_vendor() -> str:
    from django.db import connection

    return connection.vendor


def db_label() -> str:
    return "postgres" if db_vendor() == "postgresql" else "sqlite"


def machine_facts() -> dict:
    """Cores, memory, Python and database versions: printed with every result."""
    from django.db import connection

    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            db_version = "PostgreSQL " + cur.fetchone()[0]
        else:
            cur.execute("SELECT sqlite_version()")
            db_version = "SQLite " + cur.fetchone()[0]
    import django

    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": db_version,
        "os": platform.platform(),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM from /proc, no psutil needed)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def reset_peak_rss() -> bool:
    """Reset VmHWM so the next reading is the peak of what follows (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False
