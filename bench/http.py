"""The production server (``manage.py serve``: gunicorn, one worker per core) driven by wrk on loopback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import ROOT


def ensure_wrk() -> str:
    """wrk from Debian; installed with apt-get when missing and we may."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install -y wrk) …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is missing and could not be installed (apt-get install wrk)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``manage.py serve --no-worker`` on a loopback port, stopped (SIGTERM, then its own process
    group only) when the block ends."""

    def __init__(self, workers: int, log: Path):
        self.port = free_port()
        self.workers = workers
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        cmd = [sys.executable, "manage.py", "serve", "--no-worker", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--workers", str(self.workers)]
        out = open(self.log, "ab")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out, start_new_session=True, env=os.environ)
        out.close()
        return self

    def wait_ready(self, path: str, headers: dict[str, str], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited early; see {self.log}")
            try:
                req = urllib.request.Request(self.base + path, headers=headers)
                with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback)
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this benchmark started
            self.proc.wait(timeout=10)


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:  # a thread or process that just ended
        return []


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its threads and its children (the gunicorn master and workers),
    to the nanosecond: each thread's ``/proc/<pid>/task/<tid>/schedstat`` (the 10 ms clock ticks of
    ``/proc/<pid>/stat`` are too coarse for a 3 ms request). Falls back to those ticks (psutil)."""
    if not os.path.exists(f"/proc/{pid}/task/{pid}/schedstat"):
        from bench.capacity import _cpu_seconds

        return _cpu_seconds(pid)
    total = 0
    todo, seen = [pid], set()
    while todo:  # the process and its descendants
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for tid in _listdir(f"/proc/{p}/task"):
            fields = _read(f"/proc/{p}/task/{tid}/schedstat").split()
            total += int(fields[0]) if fields else 0
            todo += [int(c) for c in _read(f"/proc/{p}/task/{tid}/children").split()]
    return total / 1e9


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(
    url: str, *, seconds: int, connections: int, threads: int = 1, headers: dict[str, str] | None = None
) -> dict:
    """Requests per second and latency percentiles of one bounded wrk run."""
    cmd = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(url)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
        "latency_ms": pct,
    }
