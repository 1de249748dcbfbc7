"""The soak test (scripts/soak.py) at a reduced size: the production server with the demo company on
this run's test database (SQLite or PostgreSQL), mixed concurrent load over loopback. No request
may fail, the web workers' memory must stay flat, and what was written must be stored.

YIXIANG_SOAK_SECONDS sets the measured time (default 15; e.g. 600 for the long run)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import urllib.parse

import pytest
from django.apps import apps
from django.db import connection

from yixiang.pipeline.models import FollowUp

from .servers import ROOT

SECONDS = float(os.environ.get("YIXIANG_SOAK_SECONDS", "15"))
SOAK_SUMMARIES = ["回访", "客户在开会，约明天", "问了价格"]  # the texts scripts/soak.py writes


def database_url() -> str:
    """This test database as a DATABASE_URL for the server the script starts."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = urllib.parse.quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(s["PASSWORD"])
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


@pytest.fixture
def migrated_data(transactional_db):
    """The rows the data migrations ship, which an earlier transactional test's flush removed
    (seed_demo needs the incentive scheme)."""
    from yixiang.incentives.models import SchemeVersion

    if not SchemeVersion.objects.exists():
        importlib.import_module("yixiang.incentives.migrations.0002_seed_scheme").seed(apps, None)


@pytest.mark.slow
def test_soak_mixed_load_has_no_errors_and_flat_memory(migrated_data, tmp_path):
    out = tmp_path / "soak.json"
    cmd = [
        sys.executable, "scripts/soak.py", "--seconds", str(SECONDS), "--clients", "6",
        "--database-url", database_url(), "--data-dir", str(tmp_path / "data"), "--json", str(out),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in {"HUEY_IMMEDIATE", "YIXIANG_TESTING"}}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS * 2 + 600)
    print(proc.stdout)  # the figures, shown with -s or on failure
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    r = json.loads(out.read_text())

    assert r["errors"] == 0, r["error_samples"]
    assert r["requests"] >= SECONDS * 10, r["requests"]
    for op in ("agenda", "agenda_page", "search", "list", "follow_up", "pool", "claim"):
        assert r["ops"][op]["count"] > 0, op
    assert r["claims_won"] > 0
    assert len([k for k in r["rss_end_mb"] if k.startswith("web")]) == 2
    # Flat memory once warm: a leak of a few KB per request would show here.
    assert r["web_rss_growth_mb"] <= max(30.0, 0.15 * r["web_rss_start_mb"]), r
    # Every follow-up the server acknowledged is stored, once.
    assert FollowUp.objects.filter(summary__in=SOAK_SUMMARIES).count() == r["follow_ups_written"]
