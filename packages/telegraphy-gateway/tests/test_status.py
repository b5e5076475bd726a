"""`telegraphy-gateway status`: a running gateway's state read from /health and /ready, with
exit status 0 when ready, 1 when not, 2 when nothing (or not a gateway) answers."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from redis_server import RedisServer
from test_scale_out import redis_config

from conftest import start_gateway
from gateway_command import free_port, wait_for
from telegraphy.gateway import __version__

GATEWAY = [sys.executable, "-m", "telegraphy.gateway"]


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GATEWAY, "status", *args], capture_output=True, text=True, timeout=30)


def test_a_ready_gateway_is_described_and_exits_0(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, 'realm = "shop"\n')
    try:
        by_port = status("--port", str(gateway.port))
        by_url = status("--url", gateway.http_url + "/")
    finally:
        gateway.stop()
    assert by_port.returncode == 0, by_port.stdout + by_port.stderr
    pid = gateway.process.pid
    assert by_port.stdout.splitlines() == [
        f"telegraphy-gateway {__version__} at {gateway.http_url} (pid {pid})",
        "realm:    shop",
        "engine:   sqlite",
        "sessions: 0",
        "ready:    yes",
    ]
    assert (by_url.returncode, by_url.stdout) == (0, by_port.stdout)


def test_a_gateway_that_cannot_reach_its_engine_is_not_ready_and_exits_1(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    try:
        gateway = start_gateway(tmp_path, redis_config(redis, "status:"))
        try:
            wait_for(lambda: ready(gateway.http_url), "the gateway to be ready")
            redis.stop()
            wait_for(lambda: not ready(gateway.http_url), "the gateway to see Redis gone")
            result = status("--port", str(gateway.port))
        finally:
            gateway.stop()
    finally:
        redis.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[2:4] == ["engine:   redis", "sessions: 0"]
    assert lines[4:] == ["ready:    no", f"  - cannot reach Redis at {redis.url}"]


def test_nothing_listening_is_unreachable_and_exits_2() -> None:
    port = free_port()
    result = status("--port", str(port))
    assert result.returncode == 2
    assert result.stdout.startswith(f"unreachable: http://127.0.0.1:{port}: ")
    assert "Connection refused" in result.stdout


def test_status_takes_a_port_or_a_url_not_both() -> None:
    result = status("--port", "9000", "--url", "http://127.0.0.1:9000")
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/ready", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.HTTPError, OSError):
        return False
