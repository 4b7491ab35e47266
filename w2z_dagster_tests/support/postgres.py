"""A throwaway PostgreSQL server for the production-instance tests, from Debian's `postgresql` binaries.

The server runs from a temporary directory on a free port with its unix socket beside it, so it never
touches a system cluster. PostgreSQL refuses to run as root; as root the server runs as the `postgres`
user the Debian package creates.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from w2z_dagster_tests.support.ports import free_port

INSTALL_ROOT = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"
START_SECONDS = 60


class PostgresUnavailableError(RuntimeError):
    """The binaries are missing: the suite must fail loudly, CI installs them."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"


def bin_dir() -> Path:
    """The newest installed major version that has both `initdb` and `pg_ctl`."""
    candidates = [
        d for d in INSTALL_ROOT.glob("*/bin") if (d / "initdb").exists() and (d / "pg_ctl").exists()
    ]
    if not candidates:
        raise PostgresUnavailableError(
            f"PostgreSQL server binaries not found ({INSTALL_ROOT}/*/bin/initdb, pg_ctl): "
            "install Debian's `postgresql` package (`bash .ci/system-deps`)"
        )
    return max(candidates, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


def _as_service_user() -> list[str]:
    return ["runuser", "-u", SERVICE_USER, "--"] if os.geteuid() == 0 else []


def _run(cmd: list[str], log: Path) -> None:
    done = subprocess.run([*_as_service_user(), *cmd], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(
            f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr or done.stdout}{tail}"
        )


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """initdb, start, yield, stop and delete; password authentication over TCP like a real deployment."""
    binaries = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="w2z-postgres-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    password = secrets.token_hex(12)
    (root / "password").write_text(password)
    if os.geteuid() == 0:
        shutil.chown(root, SERVICE_USER)
        shutil.chown(sockets, SERVICE_USER)
        shutil.chown(root / "password", SERVICE_USER)
    server = PostgresServer("127.0.0.1", free_port(), "w2z", password, "postgres")
    initdb = [str(binaries / "initdb"), "-D", str(data), "-U", server.user, f"--pwfile={root / 'password'}"]
    options = f"-h {server.host} -p {server.port} -k {sockets} -c fsync=off -c full_page_writes=off"
    pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(START_SECONDS)]
    try:
        _run(
            [*initdb, "--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8", "--no-locale"], log
        )
        _run([*pg_ctl, "-o", options, "start"], log)
        try:
            yield server
        finally:
            _run([*pg_ctl, "-m", "fast", "stop"], log)
    finally:
        shutil.rmtree(root, ignore_errors=True)
