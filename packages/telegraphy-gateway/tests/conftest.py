"""Fixtures: a real gateway process on a free port (per test, or per module with its own
configuration), and the check that a gateway still serves clients."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from autobahn.wamp.types import PublishOptions

from gateway_command import await_health, free_port
from gateway_harness import GatewayProcess, Inbox, join, left

BACKEND_ID = "backend-1"
BACKEND_SECRET = "backend-secret-0123456789abcdef"

BASE_CONFIG = f"""
realm = "telegraphy"
public = ["telegraphy.public.news", {{ uri = "telegraphy.public.", match = "prefix" }}]

[[backends]]
authid = "{BACKEND_ID}"
secret = "{BACKEND_SECRET}"
"""
DEFAULT_LIMITS: dict[str, float] = {"hello_timeout": 2.0, "shutdown_timeout": 2.0}


def config_with_limits(**limits: float) -> str:
    """The default configuration with these [limits] added or changed."""
    lines = [f"{name} = {value}" for name, value in {**DEFAULT_LIMITS, **limits}.items()]
    return BASE_CONFIG + "\n[limits]\n" + "\n".join(lines) + "\n"


DEFAULT_CONFIG = config_with_limits()


def start_gateway(
    tmp_path: Path,
    config: str,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> GatewayProcess:
    """A gateway serving `config` from `tmp_path`, on `port` (default: a free one);
    `preexec_fn` runs in the child before the gateway (to set resource limits)."""
    path = tmp_path / "telegraphy.toml"
    path.write_text(config)
    port = free_port() if port is None else port
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
        cwd=tmp_path,  # the SQLite engine's file goes beside the configuration
        preexec_fn=preexec_fn,
    )
    gateway = GatewayProcess(process, port, log)
    if await_health(process, port, timeout=20):
        return gateway
    exited = process.poll() is not None
    gateway.stop()
    problem = "exited at start" if exited else "did not become healthy"
    raise RuntimeError(f"gateway {problem}:\n{gateway.output_after_stop}")


@pytest.fixture
def gateway_config() -> str:
    return DEFAULT_CONFIG


@pytest.fixture
def gateway(tmp_path: Path, gateway_config: str) -> Iterator[GatewayProcess]:
    process = start_gateway(tmp_path, gateway_config)
    yield process
    process.stop()


def module_gateway(config: str) -> Any:
    """A module-scoped `gateway` fixture with `config`: one process start per module, not per
    test. Assign it to `gateway` in the module. At the end it checks the gateway's log: bad
    input is answered, never a crash, so nothing the gateway did may have raised."""

    @pytest.fixture(scope="module", name="gateway")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
        process = start_gateway(tmp_path_factory.mktemp("gateway"), config)
        yield process
        output = process.output()
        process.stop()
        assert "Traceback" not in output and "Unhandled" not in output, output

    return fixture


async def assert_gateway_serves(gateway: GatewayProcess) -> None:
    """Another client can still join, subscribe, publish and receive the event."""
    session = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    inbox = Inbox()
    await session.subscribe(inbox, "app.health")
    await session.publish(
        "app.health", "ok", options=PublishOptions(acknowledge=True, exclude_me=False)
    )
    args, _ = await inbox.next()
    assert args == ("ok",)
    session.leave()
    await left(session)


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real redis-server for the session; tests keep apart by key prefix."""
    from redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()
