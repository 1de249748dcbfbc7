from __future__ import annotations

import itertools
import os
import time

from django.apps import AppConfig
from django.db.backends.signals import connection_created

_matches = itertools.count(1)


class FaultsConfig(AppConfig):
    name = "tests.reliability.faults"
    label = "reliability_faults"

    def ready(self) -> None:
        connection_created.connect(_install, dispatch_uid="reliability-faults")


def _install(sender, connection, **kwargs) -> None:
    if getattr(connection, "_reliability_fault", False):
        return
    connection._reliability_fault = True
    pattern = os.environ["YIXIANG_FAULTS"]
    log = os.environ["YIXIANG_FAULTS_LOG"]
    stall_at = int(os.environ.get("YIXIANG_FAULTS_AT", "1"))
    stall = float(os.environ.get("YIXIANG_FAULTS_SLEEP", "60"))

    def stall_after(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if pattern in sql:
            n = next(_matches)
            with open(log, "a") as fh:
                fh.write(f"{n} {sql[:60]}\n")
            if n == stall_at:
                time.sleep(stall)
        return result

    connection.execute_wrappers.append(stall_after)
