"""`make run`'s pieces on a fresh data folder: migrate, demo data once, the real server + worker,
and a clean stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUEY_IMMEDIATE", "YIXIANG_TESTING"}}
    env["YIXIANG_DATA_DIR"] = str(data_dir)
    return env


def _manage(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_env(data_dir), capture_output=True, text=True, timeout=300
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fresh_data_folder_migrate_seed_serve_and_stop(tmp_path):
    data = tmp_path / "data"
    assert _manage(data, "migrate", "--noinput", "-v0").returncode == 0
    first = _manage(data, "seed_demo")
    assert first.returncode == 0, first.stderr
    assert "Demo data loaded" in first.stdout
    again = _manage(data, "seed_demo")
    assert "already loaded" in again.stdout  # idempotent

    db = sqlite3.connect(data / "yixiang.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    users = {r[0] for r in db.execute("SELECT username FROM accounts_user")}
    assert users == {"admin", "director", "lead1", "lead2", "rep1", "rep2", "rep3", "rep4", "rep5", "rep6",
                     "director2", "lead3", "rep7"}  # fmt: skip
    # Two regions, so a director's scope shows: rep7's customers are in 华南, not the first director's.
    south = db.execute(
        "SELECT count(*) FROM customers_customer c JOIN accounts_user u ON u.id = c.owner_id "
        "JOIN accounts_team t ON t.id = u.team_id JOIN accounts_region r ON r.id = t.region_id WHERE r.name = '华南大区'"
    ).fetchone()[0]
    assert south > 0
    stages = {r[0] for r in db.execute("SELECT DISTINCT stage FROM customers_customer")}
    assert stages == {-1, 0, 1, 2, 3, 4, 5}
    assert db.execute("SELECT COUNT(*) FROM customers_customer").fetchone()[0] >= 250
    for table in ("pipeline_followup", "pipeline_stagechange", "aftercare_contract", "aftercare_payout"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0, table  # noqa: S608
    db.close()
    assert (data / "field.key").exists() and (data / "secret.key").exists()

    assert _manage(data, "collectstatic", "--noinput", "-v0").returncode == 0
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT, env=_env(data), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        body = None
        for _ in range(60):
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/auth/token",
                    data=json.dumps({"username": "rep1", "password": "yixiang-demo"}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(req, timeout=5) as resp:
                    body = json.loads(resp.read())
                break
            except OSError:
                time.sleep(0.5)
        assert body and body["token"].startswith("yx_")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as resp:
            page = resp.read().decode()
        assert resp.status == 200 and "<form" in page
        # Ctrl-C reaches the whole process group, as in a terminal.
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "yixiang-demo" in out and "rep6" in out  # logins printed
    assert "Yixiang stopped." in out
    assert proc.returncode == 0
    # Nothing of ours is left listening.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_periodic_jobs_run_on_local_time():
    """Crontabs say Shanghai time: Huey compares them with the local clock, which is TIME_ZONE."""
    import datetime as dt
    import time as _time

    from huey.contrib.djhuey import HUEY

    import yixiang.pipeline.tasks as pipeline_tasks

    assert HUEY.utc is False
    assert _time.tzname[0] == "CST"
    validate = pipeline_tasks.recycle_daily.task_class().validate_datetime
    assert validate(dt.datetime(2026, 11, 24, 1, 30))  # noqa: DTZ001 (Huey passes naive local times)
    assert not validate(dt.datetime(2026, 11, 24, 17, 30))  # noqa: DTZ001
