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


def restore(src: Path) -> None:
    """Replace the live database's contents with the snapshot in ``src``."""
    if not src.exists():
        raise FileNotFoundError(src)
    if connection.vendor == "sqlite":
        source = sqlite3.connect(src)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise ValueError(f"{src} is not a healthy SQLite database")
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
        return
    if connection.vendor == "postgresql":
        env, args = _pg_env_and_args()
        name = connection.settings_dict["NAME"]
        connection.close()  # pg_restore --clean drops tables our session may hold locks on
        subprocess.run(  # noqa: S603
            ["pg_restore", *args, "--clean", "--if-exists", "--no-owner", "--single-transaction", "-d", name, str(src)],  # noqa: S607
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        return
    raise RuntimeError(f"restore is not supported for {connection.vendor}")


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
