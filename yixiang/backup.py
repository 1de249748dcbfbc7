"""Backup and restore of the whole database: SQLite online backup, pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

from django.apps import apps
from django.db import connection


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = ["-h", str(s.get("HOST") or "127.0.0.1"), "-p", str(s.get("PORT") or 5432)]
    if s.get("USER"):
        args += ["-U", str(s["USER"])]
    return env, args


def backup(dest: Path) -> Path:
    """Write a consistent snapshot of the live database to ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(dest)
        try:
            # The online backup API copies a consistent snapshot while others keep writing.
            connection.connection.backup(target)
        finally:
            target.close()
        return dest
    if connection.vendor == "postgresql":
        env, args = _pg_env_and_args()
        subprocess.run(  # noqa: S603
            ["pg_dump", *args, "-Fc", "--no-owner", "-f", str(dest), connection.settings_dict["NAME"]],  # noqa: S607
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        return dest
    raise RuntimeError(f"backup is not supported for {connection.vendor}")


class NotABackup(ValueError):
    """A file restore refuses: not a Yixiang database, or of a schema this code does not know."""


def our_migrations() -> dict[str, set[str]]:
    """The migrations this code ships, per app label of the project's own apps."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True, load=False)
    loader.load_disk()
    ours = {a.label for a in apps.get_app_configs() if a.name.startswith("yixiang.")}
    known: dict[str, set[str]] = {label: set() for label in ours}
    for label, name in loader.disk_migrations:
        if label in ours:
            known[label].add(name)
    return {label: names for label, names in known.items() if names}


def check_schema(src: Path, recorded: list[tuple[str, str]]) -> None:
    """``recorded``: the backup's django_migrations rows (app, name). A Yixiang backup has applied
    the first migration of every app of ours, and none this code does not know (a newer version's:
    its tables would not match these models). Older is fine: ``migrate`` brings it up to date."""
    known = our_migrations()
    applied: dict[str, set[str]] = {}
    for app, name in recorded:
        applied.setdefault(app, set()).add(name)
    missing = sorted(label for label in known if not applied.get(label))
    if missing:
        raise NotABackup(f"{src} is not a Yixiang backup (no migrations of {', '.join(missing)})")
    newer = sorted(f"{app}.{n}" for app in known for n in applied[app] - known[app])
    if newer:
        raise NotABackup(f"{src} was written by a newer Yixiang (unknown migrations: {', '.join(newer[:5])})")


def _sqlite_migrations(source: sqlite3.Connection, src: Path) -> list[tuple[str, str]]:
    try:
        return source.execute("SELECT app, name FROM django_migrations").fetchall()
    except sqlite3.DatabaseError:
        raise NotABackup(f"{src} is not a Yixiang backup (no django_migrations table)") from None


def _pg_migrations(src: Path) -> list[tuple[str, str]]:
    """The django_migrations rows of a pg_dump archive, read without restoring it."""
    env, _args = _pg_env_and_args()
    out = subprocess.run(  # noqa: S603
        ["pg_restore", "--data-only", "--table=django_migrations", "-f", "-", str(src)],  # noqa: S607
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise NotABackup(f"{src} is not a PostgreSQL backup: {out.stderr.strip()[:200]}")
    rows, copying = [], False
    for line in out.stdout.splitlines():
        if line.startswith("COPY ") and "django_migrations" in line:
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying:
            cols = line.split("\t")
            if len(cols) >= 3:
                rows.append((cols[1], cols[2]))
    return rows


def ext() -> str:
    """The backup file's extension for this database."""
    return "sqlite3" if connection.vendor == "sqlite" else "pgdump"


def check(src: Path) -> None:
    """Refuse (FileNotFoundError, ValueError, NotABackup) a file that is not a healthy Yixiang backup
    of a schema this code knows: an empty SQLite file, huey's queue or another app's database would
    otherwise replace every table and "succeed"."""
    if not src.exists():
        raise FileNotFoundError(src)
    if connection.vendor == "sqlite":
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise ValueError(f"{src} is not a healthy SQLite database")
            check_schema(src, _sqlite_migrations(source, src))
        finally:
            source.close()
    elif connection.vendor == "postgresql":
        check_schema(src, _pg_migrations(src))
    else:
        raise RuntimeError(f"restore is not supported for {connection.vendor}")


def restore(src: Path) -> None:
    """Replace the live database's contents with the snapshot in ``src`` (checked first: ``check``)."""
    check(src)
    if connection.vendor == "sqlite":
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
        return
    env, args = _pg_env_and_args()
    name = connection.settings_dict["NAME"]
    connection.close()  # pg_restore --clean drops tables our session may hold locks on
    subprocess.run(  # noqa: S603
        ["pg_restore", *args, "--clean", "--if-exists", "--no-owner", "--single-transaction", "-d", name, str(src)],  # noqa: S607
        env=env, check=True, capture_output=True,
    )  # fmt: skip


def fingerprint() -> str:
    """A digest of every row of every model table, to compare two databases' contents."""
    digest = hashlib.sha256()
    with connection.cursor() as cur:
        for model in sorted(apps.get_models(include_auto_created=True), key=lambda m: m._meta.db_table):
            table = model._meta.db_table
            pk = model._meta.pk.column
            cur.execute(f'SELECT * FROM "{table}" ORDER BY "{pk}"')  # noqa: S608 (table names from models)
            digest.update(table.encode())
            for row in cur.fetchall():
                digest.update(repr(tuple(str(v) for v in row)).encode())
    return digest.hexdigest()
