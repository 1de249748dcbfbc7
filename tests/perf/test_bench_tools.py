"""The benchmark's own tools: bench.run on a fresh data folder (it used to stop with "database is
locked" while generating), the peer case's form filling, the capacity case's CPU ceiling."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.capacity import cpu_ceiling
from bench.common import ROOT
from bench.peer import PeerFailed, form_fields, with_value

PAGE = """
<form method="post" action="/logout/"><input type="hidden" name="csrfmiddlewaretoken" value="t1"></form>
<form method="post" action="/customers/7/follow-up/">
  <input type="hidden" name="csrfmiddlewaretoken" value="t2">
  <input type="radio" name="channel" value="visit"><input type="radio" name="channel" value="phone" checked>
  <input type="checkbox" name="effective" checked><input type="checkbox" name="signals" value="s1">
  <select name="stage"><option value="1">1</option><option value="2" selected>2</option></select>
  <select name="grade"><option value="">—</option><option value="A">A</option></select>
  <textarea name="summary">
old</textarea>
  <input type="submit" name="go" value="Save">
</form>"""


def test_the_form_is_submitted_as_a_browser_would():
    fields = form_fields(PAGE, "summary")
    assert sorted(map(tuple, fields)) == sorted(
        [
            ("csrfmiddlewaretoken", "t2"),  # the follow-up form's, not the logout form's
            ("channel", "phone"),
            ("effective", "on"),
            ("stage", "2"),
            ("grade", ""),  # no option selected: the first one
            ("summary", "old"),
        ]
    )
    assert ["summary", "new"] in with_value(fields, "summary", "new")
    assert ["summary", "old"] not in with_value(fields, "summary", "new")
    with pytest.raises(PeerFailed):
        form_fields(PAGE, "next_step")


def test_cpu_ceiling_is_cores_over_cpu_per_user():
    step = {"users": 10, "requests": 600, "rps": 2.0, "server_cpu_ms_per_request": 40.0}
    # 0.2 requests per user per second × 40 ms = 8 ms of CPU per user per second; 2 cores → 250 users.
    assert cpu_ceiling([step], 2) == 250
    assert cpu_ceiling([], 2) is None


def test_bench_run_generates_into_a_fresh_data_dir(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--customers", "300", "--db", "sqlite", "--data-dir", str(tmp_path / "d")]
        + ["--only", "customer_api", "--runs", "3", "--no-save"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "database is locked" not in out
    assert "generated 300 customers" in out
    assert any(line.startswith("customer_api") and "median" in line for line in out.splitlines()), out[-3000:]
