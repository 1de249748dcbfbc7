"""A throw-away PostgreSQL primary and its streaming replica (pg_basebackup) on free ports, run as
the postgres user in a temporary folder."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.cluster.needs import missing
from tests.reliability.servers import free_port

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*cmd: str, timeout: float = 120) -> None:
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    r = subprocess.run([*run_as, *cmd], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stdout}{r.stderr}")


def _start(data: Path, port: int, sockets: Path) -> None:
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sockets} -c fsync=off"
    _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data.parent / f"{data.name}.log"),
                 "-w", "-t", "60", "start")  # fmt: skip


@contextlib.contextmanager
def streaming_pair() -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL), database ``yx`` on both, the replica streaming from the primary."""
    if not (BIN / "initdb").exists():
        missing(f"PostgreSQL binaries not found in {BIN} (set PG_BIN)")
    if os.geteuid() == 0:
        try:
            pg_user = pwd.getpwnam("postgres")
        except KeyError:
            missing("no postgres user to run a PostgreSQL server as")
    root = Path(tempfile.mkdtemp(prefix="yx-pgpair-"))
    if os.geteuid() == 0:
        os.chown(root, pg_user.pw_uid, pg_user.pw_gid)
    primary, standby = root / "primary", root / "replica"
    p_port, r_port = free_port(), free_port()
    started: list[Path] = []
    try:
        _as_postgres(str(BIN / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                     "--no-sync")  # fmt: skip
        _start(primary, p_port, root)
        started.append(primary)
        _as_postgres(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres", "yx")
        # -R writes primary_conninfo and standby.signal: the copy starts as a streaming hot standby.
        _as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres",
                     "-D", str(standby), "-R", "-X", "stream", "--no-sync")  # fmt: skip
        _start(standby, r_port, root)
        started.append(standby)
        yield (f"postgres://postgres@127.0.0.1:{p_port}/yx", f"postgres://postgres@127.0.0.1:{r_port}/yx")
    finally:
        for data in reversed(started):
            with contextlib.suppress(Exception):
                _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)
