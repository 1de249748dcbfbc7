"""Test-only app for the two-node test's Huey consumers: their schedulers' clock starts at
YIXIANG_TEST_CLOCK (local wall time, e.g. 06:05 for the daily care run) and runs on from there,
and every finished task is logged, one line per run, to YIXIANG_TEST_TASK_LOG."""

from __future__ import annotations

import datetime as dt
import os
import time

from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "tests.cluster.clock"
    label = "cluster_clock"

    def ready(self) -> None:
        from huey.contrib.djhuey import HUEY
        from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR

        start = dt.datetime.fromisoformat(os.environ["YIXIANG_TEST_CLOCK"])
        began = time.monotonic()
        HUEY._get_timestamp = lambda: start + dt.timedelta(seconds=time.monotonic() - began)
        log = os.environ["YIXIANG_TEST_TASK_LOG"]

        @HUEY.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
        def _record(signal, task, *args, **kwargs) -> None:
            # One short line per write with O_APPEND: lines of the two consumers never interleave.
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{os.getpid()} {signal} {task.name}\n".encode())
            finally:
                os.close(fd)
