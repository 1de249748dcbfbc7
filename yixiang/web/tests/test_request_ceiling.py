"""Issue 12: every request has a ceiling (yixiang/web/ceiling.py), on SQLite and on PostgreSQL.
Transactional (autocommit), as in production: a cancelled statement must leave the connection usable.

Run with DATABASE_URL=postgres://… for the PostgreSQL half (the statement_timeout path)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client

from yixiang.web.tests import ceiling_urls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(ceiling_urls.__name__)]

CEILING = 1


@pytest.fixture
def ceiling(settings):
    settings.REQUEST_CEILING_SECONDS = CEILING
    return CEILING


def _timed(url: str) -> tuple[object, float]:
    t = time.monotonic()
    resp = Client().get(url)
    return resp, time.monotonic() - t


@pytest.mark.parametrize("url", ["/slow/", "/chain/"])
def test_a_request_past_its_ceiling_is_stopped_with_a_clear_503(ceiling, url):
    resp, took = _timed(url)
    assert resp.status_code == 503
    assert "太久" in resp.content.decode()  # the message, in the page's language
    assert resp["Retry-After"] == "30"
    assert took < ceiling + 3  # stopped near its ceiling, not after the query's 30 s or minutes
    # The connection is usable afterwards, and a query outside a request has no ceiling.
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_the_api_answers_json(ceiling):
    resp, _took = _timed("/api/v1/slow")
    assert resp.status_code == 503
    assert resp.json()["code"] == "too_slow"


def test_work_outside_a_request_has_no_ceiling(ceiling):
    """Jobs and commands: the same slow loop runs past the web ceiling untouched."""
    t = time.monotonic()
    with connection.cursor() as cur:
        while time.monotonic() - t < ceiling + 0.5:
            cur.execute("SELECT 1")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone()[0] == "0"
