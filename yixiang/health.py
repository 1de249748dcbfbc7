"""Load-balancer probes, without login: /healthz (the process answers) and /readyz (it can do its
work: the database and the job queue answer)."""

from __future__ import annotations

import logging

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connections["default"].cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()


def _queue() -> None:
    from huey.contrib.djhuey import HUEY

    HUEY.pending_count()  # a round trip to Redis (or the SQLite queue file)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for name, probe in (("database", _database), ("queue", _queue)):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
            log.warning("readyz: %s unreachable: %s", name, exc)
            checks[name] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)
