"""The demo's `flask telegraphy run` as a subprocess, for the tests that need a real gateway."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parents[3] / "examples" / "flask_demo"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            body: dict[str, Any] = json.load(answer)
            return body
    except OSError:
        return None


class Outcome:
    """What the process printed and its exit status, once it has stopped."""

    output = ""
    returncode: int | None = None


@contextmanager
def flask_telegraphy_run(
    port: int, tmp_path: Path, env: Mapping[str, str] = {}, args: tuple[str, ...] = ()
) -> Iterator[Outcome]:
    """Start the demo's `flask telegraphy run` on `port`, wait for /health, stop it (SIGINT)."""
    environ = {
        **os.environ,
        "FLASK_DEMO_GATEWAY_PORT": str(port),
        "FLASK_DEMO_DB": str(tmp_path / "gateway.sqlite3"),
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "flask_demo", "telegraphy", "run", *args],
        cwd=DEMO,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    outcome = Outcome()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while health(port) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no /health from the gateway: {process.communicate()[0]}")
            time.sleep(0.05)  # polling a condition with a deadline
        yield outcome
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            outcome.output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            outcome.output, _ = process.communicate()
        outcome.returncode = process.returncode
