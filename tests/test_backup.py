"""manage.py backup / restore: a round trip gives identical data (SQLite and PostgreSQL)."""

import pytest
from django.core.management import call_command

from yixiang.backup import fingerprint
from yixiang.customers import services
from yixiang.customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_round_trip_restores_identical_data(org, tmp_path):
    c = org.customer(org.rep, "张三", phone="13800138000", bank_card="6222021234561234")
    org.customer(org.teammate, "李四")
    before = fingerprint()
    out = tmp_path / "snap.bak"
    call_command("backup", output=str(out))
    assert out.stat().st_size > 0

    services.customer_update(actor=org.rep, customer=c, data={"city": "杭州"})
    org.customer(org.rep, "王五")
    assert fingerprint() != before

    call_command("restore", str(out), yes=True)
    assert fingerprint() == before
    restored = Customer.objects.get(pk=c.pk)
    assert restored.city == "" and restored.bank_card == "6222021234561234"
    assert not Customer.objects.filter(name="王五").exists()


def test_restore_of_a_missing_or_broken_file_changes_nothing(org, tmp_path):
    from django.core.management.base import CommandError

    org.customer(org.rep, "张三")
    before = fingerprint()
    with pytest.raises(CommandError):
        call_command("restore", str(tmp_path / "nope.bak"), yes=True)
    bad = tmp_path / "bad.bak"
    bad.write_bytes(b"this is not a backup" * 100)
    with pytest.raises(CommandError):
        call_command("restore", str(bad), yes=True)
    assert fingerprint() == before


def _sqlite_file(path, statements: list[str]):
    import sqlite3

    db = sqlite3.connect(path)
    for s in statements:
        db.execute(s)
    db.commit()
    db.close()
    return path


def _foreign_files(tmp_path, vendor: str) -> dict[str, object]:
    """Healthy files that are not a Yixiang backup of this code's schema (issue 12, defect 8)."""
    files = {}
    if vendor == "sqlite":
        files["empty"] = _sqlite_file(tmp_path / "empty.sqlite3", ["CREATE TABLE t (x)"])
        mig = "CREATE TABLE django_migrations (id integer primary key, app text, name text, applied text)"
        files["other app"] = _sqlite_file(
            tmp_path / "other.sqlite3", [mig, "INSERT INTO django_migrations VALUES (1, 'polls', '0001_initial', '')"]
        )
        files["newer schema"] = _sqlite_file(
            tmp_path / "newer.sqlite3",
            [mig, "INSERT INTO django_migrations VALUES (1, 'customers', '0001_initial', '')",
             "INSERT INTO django_migrations VALUES (2, 'customers', '9999_from_the_future', '')"],
        )  # fmt: skip
    else:
        import subprocess

        from django.db import connection

        s = connection.settings_dict
        out = tmp_path / "empty.pgdump"
        name = "yx_restore_probe"
        base = [
            "-h",
            str(s.get("HOST") or "127.0.0.1"),
            "-p",
            str(s.get("PORT") or 5432),
            "-U",
            s.get("USER") or "postgres",
        ]
        subprocess.run(["dropdb", *base, "--if-exists", name], check=True)
        subprocess.run(["createdb", *base, name], check=True)
        subprocess.run(["psql", *base, "-d", name, "-c", "CREATE TABLE t (x int)"], check=True, capture_output=True)
        subprocess.run(["pg_dump", *base, "-Fc", "-f", str(out), name], check=True)
        subprocess.run(["dropdb", *base, name], check=True)
        files["empty"] = out
    return files


def test_restore_refuses_a_healthy_file_that_is_not_a_yixiang_backup(org, tmp_path):
    from django.core.management.base import CommandError
    from django.db import connection

    org.customer(org.rep, "张三")
    before = fingerprint()
    for what, path in _foreign_files(tmp_path, connection.vendor).items():
        with pytest.raises(CommandError, match="not a Yixiang backup|newer"):
            call_command("restore", str(path), yes=True)
        assert fingerprint() == before, what


def test_restore_keeps_the_current_database_aside(org, tmp_path, settings):
    from io import StringIO

    settings.DATA_DIR = tmp_path
    org.customer(org.rep, "张三")
    before = fingerprint()
    snap = tmp_path / "snap.bak"
    call_command("backup", output=str(snap))
    org.customer(org.rep, "李四")
    after = fingerprint()
    out = StringIO()
    call_command("restore", str(snap), yes=True, stdout=out)
    assert fingerprint() == before
    aside = list((tmp_path / "backups").glob("before-restore-*"))
    assert len(aside) == 1 and str(aside[0]) in out.getvalue()
    call_command("restore", str(aside[0]), yes=True, stdout=StringIO())  # and it can be put back
    assert fingerprint() == after
