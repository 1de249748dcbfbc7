"""Run the production server (gunicorn, one worker per core) and the Huey worker together.

Ctrl-C (or SIGTERM) stops both cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from yixiang.accounts.models import User


class Command(BaseCommand):
    help = "Serve Yixiang with gunicorn and the background worker"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", os.cpu_count() or 2)))
        parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")

    def handle(self, *args, host: str, port: int, workers: int, no_worker: bool, **options):
        base = str(settings.BASE_DIR)
        # On SIGTERM gunicorn stops accepting and lets in-flight requests finish for this long.
        graceful = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
        web_cmd = [
            sys.executable, "-m", "gunicorn", "yixiang.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", os.environ.get("WEB_THREADS", "4"),
            "--graceful-timeout", str(graceful), "--no-control-socket", "--access-logfile", "-" if os.environ.get("ACCESS_LOG") else "/dev/null",
        ]  # fmt: skip
        procs: list[subprocess.Popen] = [subprocess.Popen(web_cmd, cwd=base)]  # noqa: S603
        if not no_worker:
            worker_cmd = [sys.executable, "manage.py", "run_huey", "--quiet"]
            procs.append(subprocess.Popen(worker_cmd, cwd=base))  # noqa: S603

        self._banner(host, port, workers, not no_worker)
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(p.poll() is None for p in procs):
                time.sleep(0.3)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + graceful + 5
            for p in procs:
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
        failed = [p for p in procs if p.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            self.stderr.write(self.style.ERROR("a server process exited unexpectedly"))
            sys.exit(1)
        self.stdout.write("Yixiang stopped.")

    def _banner(self, host: str, port: int, workers: int, worker: bool) -> None:
        w = self.stdout.write
        w("")
        w(self.style.SUCCESS(f"Yixiang 意向 is running on http://{host}:{port}/"))
        w(f"  API docs: http://{host}:{port}/api/v1/docs   data folder: {settings.DATA_DIR}")
        w(f"  web workers: {workers}   background worker: {'on' if worker else 'off'}")
        demo = list(User.objects.filter(username__in=DEMO_USERNAMES).order_by("id").values_list("username", "role"))
        if demo:
            w("  Demo logins (password for all: yixiang-demo — change it before real use):")
            for username, role in demo:
                w(f"    {username:<10} {role}")
        w("  Press Ctrl-C to stop.")
        w("")


DEMO_USERNAMES = [
    "admin", "director", "lead1", "lead2", "rep1", "rep2", "rep3", "rep4", "rep5", "rep6", "director2", "lead3", "rep7",
]  # fmt: skip
