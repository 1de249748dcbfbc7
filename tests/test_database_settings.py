"""The connection settings the app depends on for speed and safety are really in force."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_connection_runs_with_the_tuned_settings():
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # JIT compilation costs ~0.25 s on big report queries and never pays back here.
            cur.execute("SHOW jit")
            assert cur.fetchone()[0] == "off"
        else:
            cur.execute("PRAGMA foreign_keys")
            assert cur.fetchone()[0] == 1
            cur.execute("PRAGMA synchronous")
            assert cur.fetchone()[0] == 1  # NORMAL: safe with WAL, one fsync per checkpoint
    assert connection.settings_dict["CONN_MAX_AGE"] == 60
