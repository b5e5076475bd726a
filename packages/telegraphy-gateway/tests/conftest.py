"""Fixtures: a real gateway process on a free port, and real autobahn clients joined to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway_harness import GatewayProcess

BACKEND_ID = "backend-1"
BACKEND_SECRET = "backend-secret-0123456789abcdef"

DEFAULT_CONFIG = f"""
realm = "telegraphy"
public = ["telegraphy.public.news", {{ uri = "telegraphy.public.", match = "prefix" }}]

[[backends]]
authid = "{BACKEND_ID}"
secret = "{BACKEND_SECRET}"

[limits]
hello_timeout = 2.0
shutdown_timeout = 2.0
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(tmp_path: Path, config: str, extra_args: tuple[str, ...] = ()) -> GatewayProcess:
    path = tmp_path / "telegraphy.toml"
    path.write_text(config)
    port = free_port()
    log = open(tmp_path / "gateway.log", "w+b")  # noqa: SIM115 - closed by GatewayProcess
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "telegraphy.gateway",
            "--config",
            str(path),
            "--port",
            str(port),
            *extra_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    gateway = GatewayProcess(process, port, log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited at start:\n{gateway.output()}")
        try:
            with urllib.request.urlopen(f"{gateway.http_url}/health", timeout=1) as r:
                if r.status == 200:
                    return gateway
        except OSError:
            time.sleep(0.05)  # polling a starting process; not test synchronisation
    gateway.stop()
    raise RuntimeError(f"gateway did not become healthy:\n{gateway.output()}")


@pytest.fixture
def gateway_config() -> str:
    return DEFAULT_CONFIG


@pytest.fixture
def gateway(tmp_path: Path, gateway_config: str) -> Iterator[GatewayProcess]:
    process = start_gateway(tmp_path, gateway_config)
    yield process
    process.stop()


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
