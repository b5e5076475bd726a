"""A command that serves a gateway on a port, run as a subprocess: started, awaited on /health,
stopped with SIGINT. Shared by the gateway's tests and the Django and Flask integrations' tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

START_TIMEOUT = 30.0
"""Seconds a command may take to answer /health (Django and Flask start slower than a gateway)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def health(port: int) -> dict[str, Any] | None:
    """The gateway's /health answer on `port`, or None while nothing answers there."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            body: dict[str, Any] = json.load(answer)
            return body
    except OSError:
        return None


def await_health(process: subprocess.Popen[Any], port: int, timeout: float) -> bool:
    """Whether /health answered on `port` before `process` exited and within `timeout` s."""
    deadline = time.monotonic() + timeout
    while health(port) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling a starting process with a deadline; not test synchronisation
    return True


class Outcome:
    """What the process printed and its exit status, once it has stopped."""

    output = ""
    returncode: int | None = None


@contextmanager
def serving_gateway(
    command: Sequence[str],
    port: int,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] = {},
    start_timeout: float = START_TIMEOUT,
) -> Iterator[Outcome]:
    """Run `command` (which serves a gateway on `port`) until the block ends. SIGINT stops it,
    as Ctrl-C would: the returned Outcome then holds its output and exit status."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    outcome = Outcome()
    try:
        if not await_health(process, port, start_timeout):
            _interrupt(process, outcome)
            raise AssertionError(f"no /health on port {port} from {command}:\n{outcome.output}")
        yield outcome
    finally:
        if outcome.returncode is None:
            _interrupt(process, outcome)


def _interrupt(process: subprocess.Popen[str], outcome: Outcome) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        outcome.output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        outcome.output, _ = process.communicate()
    outcome.returncode = process.returncode


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Poll `condition` until it is true (from a test's thread, not the reactor's)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
