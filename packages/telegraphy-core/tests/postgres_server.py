"""A real PostgreSQL server for the outbox tests: initdb + pg_ctl into a temporary directory,
on a free port, stopped at the end.

Debian's `postgresql` package provides the binaries (/usr/lib/postgresql/<version>/bin); .ci/run
installs it. PostgreSQL refuses to run as root, so as root (CI) the server runs as the
`postgres` user the package creates, through `runuser`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = (
    "PostgreSQL is needed by the outbox tests: install Debian's server with "
    "`apt-get install -y postgresql` (.ci/run does), and the driver with "
    "`pip install -r requirements-dev.txt` (psycopg)"
)
USER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; its name."""
        import psycopg

        name = f"outbox_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(f"no PostgreSQL server binaries in /usr/lib/postgresql: {INSTALL_HINT}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(f"psycopg is not installed: {INSTALL_HINT}")
    return Path(found[-1]).parent


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        pytest.fail("running as root, the tests need `runuser` to start PostgreSQL as postgres")
    return ["runuser", "-u", USER, "--", *command]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server (trust authentication, 127.0.0.1 only)."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="telegraphy-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, USER)
    port = _free_port()
    run = _as_server_user
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8"]
        subprocess.run(
            run(initdb),
            check=True,
            capture_output=True,
        )
        options = f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=50"
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
        started = subprocess.run(
            run([*pg_ctl, "-w", "start"]),
            capture_output=True,
            text=True,
        )
        if started.returncode != 0:
            text = log.read_text() if log.exists() else ""
            pytest.fail(f"PostgreSQL did not start: {started.stdout}{started.stderr}{text}")
        yield PostgresServer("127.0.0.1", port, USER)
    finally:
        subprocess.run(
            run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
