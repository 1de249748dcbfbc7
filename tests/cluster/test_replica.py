"""The read-replica router against a real streaming replica: a second PostgreSQL made with
pg_basebackup from a throw-away primary. Replay on the replica is paused, so the replica is
visibly behind: exports and reports read it, a user's own writes and everything else the primary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.needs import require_postgres
from tests.cluster.pg import streaming_pair

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_reports_and_exports_read_the_replica_and_own_writes_the_primary(tmp_path):
    require_postgres()  # once per `make test`: in its PostgreSQL pass
    with streaming_pair() as (primary, standby):
        env = {**os.environ, "DATABASE_URL": primary, "DATABASE_REPLICA_URL": standby,
               "YIXIANG_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "REPLICA_PIN_SECONDS": "2"}  # fmt: skip
        env.pop("REDIS_URL", None)
        migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr
        r = subprocess.run([sys.executable, "tests/cluster/replica_probe.py"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (line,) = [ln for ln in r.stdout.splitlines() if ln.startswith("PROBE ")]
    seen = json.loads(line.removeprefix("PROBE "))
    assert seen["in_recovery"] is True  # a real standby, not a second primary
    assert seen["own_write_then_export"] == [2, 2]  # what the user just wrote is in their export
    assert seen["export_fresh"] == 1  # the export read the (paused) replica
    assert seen["list_fresh"] == 2  # an ordinary page reads the primary
    assert seen["funnel_queries"]["replica"] > 0 and seen["funnel_queries"]["default"] == 0
    assert seen["web_export"] == 1 and seen["web_export_pinned"] == 2
    assert seen["pin_cookie"] == 2
    # API clients (no cookies): after a request that wrote, the same user reads the primary.
    assert seen["api_export_first"] == 1 and seen["api_export_next"] == 2
    assert seen["export_after_catch_up"] == 2
