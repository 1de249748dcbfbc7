"""What the cluster tests need from the machine: PostgreSQL and Redis. Missing locally, a test is
skipped with the reason; missing in CI (CI set), it fails: CI provides both."""

from __future__ import annotations

import os

import pytest


def missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


def redis_url() -> str:
    """A Redis database of these tests' own (TEST_REDIS_URL, default db 11 on localhost)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing(f"Redis is not reachable at {url}: {exc}")
    return url


def require_postgres() -> None:
    """The test database is PostgreSQL. `make test TEST_POSTGRES_URL=...` runs the suite on SQLite
    first, then on PostgreSQL: the SQLite pass leaves these tests to the PostgreSQL one."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if os.environ.get("TEST_POSTGRES_URL", "").startswith("postgres"):
        pytest.skip("PostgreSQL only: runs in the PostgreSQL pass of `make test`")
    missing("the test database is not PostgreSQL (set DATABASE_URL=postgres://...)")
