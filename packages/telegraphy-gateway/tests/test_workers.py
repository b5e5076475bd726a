"""`telegraphy-gateway --workers N`: N processes on one port joined through Redis, a dead
worker restarted by the parent, SIGTERM stopping them all; refused with an engine that cannot
be shared."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest_twisted
from ingress_posts import event, post
from recovering_subscriber import RecoveringSubscriber
from redis_server import RedisServer
from test_scale_out import ORDER, numbers, redis_config

from conftest import start_gateway
from gateway_command import free_port, health, wait_for
from gateway_harness import eventually


def workers_command(config: Path, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "telegraphy.gateway", "--config", str(config),
            "--port", str(port), "--workers", str(workers)]  # fmt: skip


def pids_answering(port: int, attempts: int = 200) -> set[int]:
    """The pids of the workers that answer /health on `port`, over new connections."""
    seen: set[int] = set()
    for _ in range(attempts):
        answer = health(port)
        if answer is not None and answer.get("status") == "ok":
            seen.add(answer["pid"])
    return seen


@pytest_twisted.ensureDeferred
async def test_workers_share_the_port_are_restarted_when_they_die_and_stop_together(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    config = redis_config(redis_server, "workers:")
    gateway = start_gateway(tmp_path, config, ("--workers", "2"))
    port = gateway.port
    try:
        wait_for(lambda: len(pids_answering(port, 20)) == 2, "two workers answering")
        first = pids_answering(port)
        assert len(first) == 2

        # Publications through either worker reach a subscriber on either worker.
        watcher = RecoveringSubscriber(ORDER)
        await watcher.connect(f"ws://127.0.0.1:{port}/ws")
        for n in range(20):
            assert post(port, "/ingress/event", event(n))[0] == 200
        await eventually(lambda: watcher.read() >= 20)
        assert numbers(watcher) == list(range(20))

        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(
            lambda: len(seen := pids_answering(port, 20)) == 2 and victim not in seen,
            "a new worker in place of the killed one",
        )
    finally:
        code = gateway.stop()  # SIGTERM to the parent
        output = gateway.output_after_stop

    assert code == 0, output
    assert f"(pid {victim}) exited with -9" in output, output
    assert "all workers stopped" in output, output
    assert health(port) is None  # nothing listens any more


def test_several_workers_need_a_shared_engine(tmp_path: Path) -> None:
    config = tmp_path / "telegraphy.toml"
    config.write_text('secret = "token-secret-0123456789abcdef"\n')
    done = subprocess.run(
        workers_command(config, free_port(), 2), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2, done.stderr
    assert "--workers 2 needs an engine that several processes can share" in done.stderr
    assert '[engine] kind = "redis"' in done.stderr
