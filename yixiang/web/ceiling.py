"""Every web and API request has a ceiling on its database time (issue 12).

One parameter once made a request chain month after month for minutes while its thread stayed
busy after the client had gone; a few such requests took the whole site down. Now a request gets
REQUEST_CEILING_SECONDS (env YIXIANG_REQUEST_CEILING_SECONDS, default 10; 0 turns it off):

- before each query, the time left is checked: a request that keeps issuing queries past its
  deadline is stopped at the next one (that was the month chain: many short queries);
- within one query: SQLite's progress handler aborts it at the deadline; PostgreSQL gets a
  statement_timeout of the ceiling for the request's duration.

The answer is a clear 503 (JSON under /api/, a page otherwise), and the work is rolled back.
Background jobs and management commands do not pass through here: they have no ceiling.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

PROGRESS_STEPS = 20_000  # SQLite VM steps between two looks at the clock (well under a millisecond)
PG_QUERY_CANCELED = "57014"


class RequestTooSlow(Exception):
    """The request went past its ceiling (raised before its next query)."""


class _Guard:
    """An execute wrapper: checks the deadline before each query, arms the database's own limit once."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.armed: Any = None  # the raw connection the limit was put on

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        if time.monotonic() > self.deadline:
            raise RequestTooSlow(sql[:200])
        if self.armed is None:
            self._arm(context["connection"])
        return execute(sql, params, many, context)

    def _arm(self, wrapper: Any) -> None:
        raw = wrapper.connection
        if wrapper.vendor == "sqlite":
            deadline = self.deadline
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
        elif wrapper.vendor == "postgresql":
            # On the driver's connection, not a Django cursor: not a query of the request's own.
            raw.execute("SELECT set_config('statement_timeout', %s, false)", [f"{int(self.seconds * 1000)}ms"])
        self.armed = raw

    def release(self) -> None:
        raw, self.armed = self.armed, None
        if raw is None:
            return
        try:
            if connection.vendor == "sqlite":
                raw.set_progress_handler(None, 0)
            else:
                raw.execute("RESET statement_timeout")
        except Exception:  # noqa: BLE001 — a closed or aborted connection keeps nothing to reset
            log.debug("request ceiling: nothing to reset", exc_info=True)


def is_ceiling(exc: BaseException) -> bool:
    """Whether the exception is the ceiling at work (ours, SQLite's interrupt, PostgreSQL's cancel)."""
    if isinstance(exc, RequestTooSlow):
        return True
    if isinstance(exc, OperationalError | DatabaseError):
        cause = exc.__cause__
        return "interrupted" in str(exc) or getattr(cause, "sqlstate", None) == PG_QUERY_CANCELED
    return False


class RequestCeilingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = settings.REQUEST_CEILING_SECONDS
        if not seconds:
            return self.get_response(request)
        guard = _Guard(seconds)
        try:
            with connection.execute_wrapper(guard):
                return self.get_response(request)
        finally:
            guard.release()

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_ceiling(exc):
            return None
        log.warning("request ceiling (%ss) reached: %s %s", settings.REQUEST_CEILING_SECONDS, request.method,
                    request.get_full_path()[:300])  # fmt: skip
        message = _("This request took too long and was stopped. Choose a shorter period or fewer items, or try again later.")  # fmt: skip
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message, "code": "too_slow"}, status=503)
        else:
            response = render(request, "web/too_slow.html", {"message": message}, status=503)
        response["Retry-After"] = "30"
        return response
