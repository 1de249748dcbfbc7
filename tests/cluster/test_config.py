"""Several nodes share one database: their secret key and field key must come from the
environment, and a node that would make up its own refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from yixiang.customers import fields

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("SECRET_KEY", "YIXIANG_FIELD_KEY", "YIXIANG_FIELD_KEYS", "YIXIANG_SINGLE_NODE", "YIXIANG_TESTING")


def _check(data: Path, *, command: bool = False, **extra: str) -> subprocess.CompletedProcess:
    """Load the settings as a node would (``command``: through manage.py, slower)."""
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    # Never reached: nothing here connects; the URL only says "PostgreSQL, shared".
    env.update(YIXIANG_DATA_DIR=str(data), DATABASE_URL="postgres://yx@127.0.0.1:1/yx_none", **extra)
    cmd = ["manage.py", "check"] if command else ["-c", "import yixiang.settings"]
    return subprocess.run([sys.executable, *cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_postgres_node_without_shared_keys_refuses_to_start(tmp_path):
    r = _check(tmp_path, command=True)
    assert r.returncode != 0
    assert "Yixiang configuration error: SECRET_KEY is not set" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "secret.key").exists()

    r = _check(tmp_path, SECRET_KEY="s" * 50)
    assert r.returncode != 0 and "YIXIANG_FIELD_KEY is not set" in r.stderr
    assert not (tmp_path / "field.key").exists()

    r = _check(tmp_path, SECRET_KEY="s" * 50, YIXIANG_FIELD_KEYS=Fernet.generate_key().decode())
    assert r.returncode == 0, r.stderr


def test_lone_postgres_node_may_keep_its_keys_in_its_data_folder(tmp_path):
    r = _check(tmp_path, YIXIANG_SINGLE_NODE="1")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "secret.key").exists() and (tmp_path / "field.key").exists()
    r = _check(tmp_path)  # the files exist now: nothing to generate, so no refusal
    assert r.returncode == 0, r.stderr


def test_with_redis_the_cache_and_the_job_queue_are_shared(tmp_path):
    probe = "import yixiang.settings as s; print(s.CACHES['default']['BACKEND'], s.HUEY['huey_class'])"
    env = {k: v for k, v in os.environ.items() if k != "YIXIANG_TESTING"}
    env.update(YIXIANG_DATA_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:6379/11")
    env.pop("DATABASE_URL", None)
    r = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "yixiang.jobs.ClusterRedisHuey"]


@pytest.fixture
def field_keys(settings):
    def use(*keys: str) -> None:
        settings.FIELD_ENCRYPTION_KEYS = list(keys)
        fields._fernet.cache_clear()

    yield use
    fields._fernet.cache_clear()


def _stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - test constants
        return cur.fetchone()[0]


@pytest.mark.django_db
def test_rotate_field_key_reencrypts_with_the_new_key(org, field_keys, capsys):
    from yixiang.customers.models import Customer

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    field_keys(old)
    c = org.customer(org.rep, "张三")
    Customer.objects.filter(pk=c.pk).update(bank_card="6222021234561234", id_number="")
    table = Customer._meta.db_table
    before = _stored(table, "bank_card", c.pk)

    field_keys(new, old)  # the new key first, the old one still readable
    call_command("rotate_field_key")
    assert "1 values re-encrypted" in capsys.readouterr().out
    after = _stored(table, "bank_card", c.pk)
    assert after != before and _stored(table, "id_number", c.pk) == ""

    field_keys(new)  # the old key dropped: everything still reads
    assert Customer.objects.get(pk=c.pk).bank_card == "6222021234561234"
    call_command("rotate_field_key")
    assert "0 values re-encrypted, 1 already on the primary key" in capsys.readouterr().out
    assert _stored(table, "bank_card", c.pk) == after  # a second run changes nothing


def test_rotate_field_key_generates_a_key(capsys):
    call_command("rotate_field_key", "--generate")
    Fernet(capsys.readouterr().out.strip().encode())  # a valid key
