"""Optional read replica (DATABASE_REPLICA_URL): reports and exports read it, everything else the
primary.

Only reads made inside ``replica_reads()`` (a context manager, also a decorator) may go to the
replica, and never once the current request or job has written: a replica lags the primary by
a moment, and a user must always see what they just saved. ``PrimaryPinMiddleware`` carries that
pin over to the user's next requests for REPLICA_PIN_SECONDS after any write (a redirect after a
POST would otherwise read the replica before it caught up): in a cookie for browsers, and under
the user's id in the cache (Redis, shared by the nodes) for API clients, which keep no cookies."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

REPLICA = "replica"
PIN_COOKIE = "yx_primary"

_replica_wanted: ContextVar[bool] = ContextVar("yixiang_replica_wanted", default=False)
_pinned: ContextVar[bool] = ContextVar("yixiang_primary_pinned", default=False)
_request: ContextVar[HttpRequest | None] = ContextVar("yixiang_replica_request", default=None)


@contextmanager
def replica_reads():
    """Route the reads inside to the replica (if one is configured and nothing was written)."""
    token = _replica_wanted.set(True)
    try:
        yield
    finally:
        _replica_wanted.reset(token)


def pin_primary() -> None:
    """From now on in this request or job, read the primary."""
    _pinned.set(True)


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


def _user_id(request: HttpRequest | None) -> int | None:
    """The request's user id if authentication already ran (never loads it: that is a read too)."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        if user._wrapped is empty:
            return None
        user = user._wrapped
    return user.pk if getattr(user, "is_authenticated", False) else None


def _pin_key(user_id: int) -> str:
    return f"replica-pin:{user_id}"


def _user_wrote_lately() -> bool:
    user_id = _user_id(_request.get())
    return user_id is not None and cache.get(_pin_key(user_id)) is not None


class ReplicaRouter:
    """Django database router: writes and unmarked reads go to the primary ("default")."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _replica_wanted.get() and not _pinned.get() and has_replica():
            if _user_wrote_lately():
                pin_primary()
                return None
            return REPLICA
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        _pinned.set(True)  # whatever this request reads next must include what it wrote
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"  # the replica follows the primary's schema by streaming


class PrimaryPinMiddleware:
    """Each request starts unpinned unless the user wrote within REPLICA_PIN_SECONDS (cookie);
    a request that wrote (or any unsafe method) sets that cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Threads serve many requests: reset the pin at the start of each.
        token = _pinned.set(PIN_COOKIE in request.COOKIES)
        request_token = _request.set(request)
        try:
            response = self.get_response(request)
            wrote = _pinned.get() and PIN_COOKIE not in request.COOKIES
            if wrote or request.method not in ("GET", "HEAD", "OPTIONS"):
                response.set_cookie(
                    PIN_COOKIE, "1", max_age=settings.REPLICA_PIN_SECONDS, httponly=True, samesite="Lax",
                    secure=settings.SESSION_COOKIE_SECURE,
                )  # fmt: skip
                if (user_id := _user_id(request)) is not None:  # API clients keep no cookies
                    cache.set(_pin_key(user_id), 1, settings.REPLICA_PIN_SECONDS)
            return response
        finally:
            _request.reset(request_token)
            _pinned.reset(token)
