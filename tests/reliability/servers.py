"""Real servers for the reliability tests: gunicorn and the Huey worker as subprocesses on the test
database, and a small HTTP client for many parallel callers on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env(data_dir: Path, *, overrides: dict | None = None, **extra: str) -> dict[str, str]:
    """The environment of a server or worker that shares this test's database and keys."""
    env = {k: v for k, v in os.environ.items() if k not in {"HUEY_IMMEDIATE", "YIXIANG_TESTING"}}
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.reliability.subprocess_settings",
        YIXIANG_DATA_DIR=str(data_dir),
        YIXIANG_TEST_DB_NAME=str(connection.settings_dict["NAME"]),
        SECRET_KEY=settings.SECRET_KEY,
        YIXIANG_FIELD_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        HUEY_IMMEDIATE="0",
        DEBUG="0",
        PYTHONPATH=str(ROOT),
        YIXIANG_TEST_OVERRIDES=json.dumps(overrides or {}),
    )
    env.update(extra)
    return env


def stop(proc: subprocess.Popen, *, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it does not go; only the process this module started."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


@dataclass
class Server:
    url: str
    proc: subprocess.Popen


def start_gunicorn(env: dict[str, str], *, workers: int = 2, threads: int = 4, timeout: float = 120) -> Server:
    port = free_port()
    cmd = [
        sys.executable, "-m", "gunicorn", "yixiang.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads), "--graceful-timeout", "5",
        "--no-control-socket",  # several servers at once must not share ~/.gunicorn/gunicorn.ctl
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/api/v1/openapi.json", proc, timeout=timeout)
    return Server(url=url, proc=proc)


def wait_for(url: str, proc: subprocess.Popen, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            # A cold worker on a loaded machine can take many seconds to build the schema; a short
            # per-try timeout would abandon that first request and queue another behind it.
            with urllib.request.urlopen(url, timeout=30) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"server did not answer {url} within {timeout}s")


@dataclass
class Reply:
    status: int
    body: dict | list | None
    seconds: float


def call(base: str, method: str, path: str, *, token: str, data=None, timeout: float = 30) -> Reply:
    """One API request on a fresh connection (as separate clients do)."""
    body = None if data is None else json.dumps(data).encode()
    req = urllib.request.Request(
        base + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    took = time.monotonic() - started
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = {"raw": raw[:500].decode("utf-8", "replace")}
    return Reply(status, parsed, took)
