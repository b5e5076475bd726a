"""Starting, watching and stopping the routers under test, one at a time."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from . import procstat
from .errors import BenchError
from .router_configs import write_crossbar_config, write_telegraphy_config
from .settings import HOST, OPEN_FILES_LIMIT


class RouterSpec(Protocol):
    """How to launch one router product."""

    @property
    def name(self) -> str: ...

    def version(self) -> str: ...

    def command(self, workdir: Path, port: int) -> list[str]: ...


@dataclass(frozen=True)
class CrossbarSpec:
    crossbar: Path
    tools_python: Path
    name: str = "crossbar"

    def version(self) -> str:
        return _distribution_version(self.tools_python, "crossbar")

    def command(self, workdir: Path, port: int) -> list[str]:
        node_dir = write_crossbar_config(workdir, port)
        return [str(self.crossbar), "start", "--cbdir", str(node_dir), "--loglevel", "warn"]


@dataclass(frozen=True)
class TelegraphySpec:
    gateway: Path
    name: str = "telegraphy"
    # More TOML for the gateway's configuration file (the history group's [engine], [history]).
    extra_config: str = ""
    # More command-line options (the scale group's --workers).
    extra_args: tuple[str, ...] = ()

    def version(self) -> str:
        return _distribution_version(self.gateway.parent / "python", "telegraphy-gateway")

    def command(self, workdir: Path, port: int) -> list[str]:
        config = write_telegraphy_config(workdir, self.extra_config)
        return [
            str(self.gateway),
            "--host",
            HOST,
            "--port",
            str(port),
            "--config",
            str(config),
            "--log-level",
            "warn",  # as Crossbar's: no per-session log lines
            *self.extra_args,
        ]


def _distribution_version(python: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _raise_open_files_limit() -> None:
    """Runs in the router's process before exec: room for thousands of connections. The hard
    limit can only be raised with CAP_SYS_RESOURCE, so fall back to the current hard limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES_LIMIT, max(hard, OPEN_FILES_LIMIT)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_group_gone(leader: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Waits until no process of the leader's group is left (so two routers never overlap).
    Polling the leader reaps it: a zombie would still count as a member of the group."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        leader.poll()
        try:
            os.killpg(leader.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


class RunningRouter:
    """A router process on a fresh port and work directory; a context manager.

    With `workdir` and `port` given (the reconnect storm restarts a gateway in place), the
    router runs there, and the directory is the caller's to remove."""

    def __init__(
        self,
        spec: RouterSpec,
        start_timeout_s: float,
        workdir: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.spec = spec
        self.port = free_port() if port is None else port
        self._start_timeout_s = start_timeout_s
        self._owned = (
            tempfile.TemporaryDirectory(prefix=f"bench-{spec.name}-") if workdir is None else None
        )
        self._dir = Path(self._owned.name) if self._owned is not None else Path(workdir or ".")
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = self._dir / "router.log"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BenchError(f"{self.spec.name} is not running")
        return self._process.pid

    def __enter__(self) -> RunningRouter:
        command = self.spec.command(self._dir, self.port)
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self._dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_raise_open_files_limit,
                start_new_session=True,
            )
        self._wait_until_healthy()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()
        if self._owned is not None:
            self._owned.cleanup()

    def _wait_until_healthy(self) -> None:
        url = f"http://{HOST}:{self.port}/health"
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise BenchError(f"{self.spec.name} exited at start:\n{self.log_tail()}")
            if _health_ok(url):
                return
            time.sleep(0.2)
        self._stop()
        raise BenchError(f"{self.spec.name} not healthy at {url} in {self._start_timeout_s}s")

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        # The router runs in its own session: signal it and its worker processes together.
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            process.wait()
            return
        if not _wait_group_gone(process, timeout_s=15):
            os.killpg(process.pid, signal.SIGKILL)
            _wait_group_gone(process, timeout_s=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def rss_bytes(self) -> int:
        return procstat.tree_rss_bytes(self.pid)

    def cpu_seconds(self) -> float:
        return procstat.tree_cpu_seconds(self.pid)
