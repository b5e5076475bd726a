"""`telegraphy-gateway status`: a running gateway's state read from /health and /ready, with
exit status 0 when ready, 1 when not, 2 when nothing (or not a gateway) answers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest_twisted
from autobahn.wamp.types import SubscribeOptions
from ingress_posts import event, post
from redis_server import RedisServer
from test_scale_out import redis_config
from ticket_peers import SECRET

from conftest import BACKEND_ID, BACKEND_SECRET, start_gateway
from gateway_command import free_port, wait_for
from gateway_harness import Inbox, join, left
from telegraphy.gateway import __version__
from telegraphy.gateway.status import describe_activity

TOKEN = "stats-token-0123456789abcdef"

GATEWAY = [sys.executable, "-m", "telegraphy.gateway"]


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GATEWAY, "status", *args], capture_output=True, text=True, timeout=30)


def test_a_ready_gateway_is_described_and_exits_0(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, 'realm = "shop"\n')
    try:
        by_port = status("--port", str(gateway.port), "--interval", "0")
        by_url = status("--url", gateway.http_url + "/", "--interval", "0")
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
        "topics:   0 subscriptions",
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
    assert lines[4:6] == ["ready:    no", f"  - cannot reach Redis at {redis.url}"]


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


STATS_CONFIG = f"""
secret = "{SECRET}"

[[backends]]
authid = "{BACKEND_ID}"
secret = "{BACKEND_SECRET}"

[metrics]
allow = ["10.0.0.1"]
token = "{TOKEN}"
"""


def get_stats(port: int, token: str | None = TOKEN) -> tuple[int, dict[str, Any]]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/stats", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


@pytest_twisted.ensureDeferred
async def test_status_prints_topics_and_rates_from_stats(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, STATS_CONFIG)
    try:
        session = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        inbox = Inbox()
        await session.subscribe(inbox, "telegraphy.event.shop.Order")
        await session.subscribe(inbox, "telegraphy.event.", options=SubscribeOptions("prefix"))
        for n in range(3):
            assert post(gateway.port, "/ingress/event", event(n))[0] == 200
        for _ in range(6):  # each event on both subscriptions
            await inbox.next()
        code, found = get_stats(gateway.port)
        refused, _ = get_stats(gateway.port, token=None)
        without_token = status("--port", str(gateway.port), "--interval", "0")
        measuring = subprocess.Popen(
            [*GATEWAY, "status", "--port", str(gateway.port), "--token", TOKEN, "--interval", "1"],
            stdout=subprocess.PIPE,
            text=True,
        )
        sent = 0
        while measuring.poll() is None:  # events all through the interval measured
            assert post(gateway.port, "/ingress/event", event(100 + sent))[0] == 200
            sent += 1
        measured = measuring.communicate(timeout=30)[0]
        session.leave()
        await left(session)
    finally:
        gateway.stop()
    assert (code, refused) == (200, 401)
    assert (found["sessions"], found["subscriptions"], found["events_delivered"]) == (1, 2, 6)
    assert found["publications_received"] == {"ingress": 3, "wamp": 0}
    assert found["publications_delivered"] == 3
    by_uri = {t["uri"]: t for t in found["topics"]}
    assert by_uri["telegraphy.event.shop.Order"] == {
        "uri": "telegraphy.event.shop.Order",
        "match": "exact",
        "filtered": False,
        "sessions": 1,
        "publications": 3,
        "events_delivered": 3,
    }
    assert by_uri["telegraphy.event."]["match"] == "prefix"
    assert without_token.returncode == 0
    assert without_token.stdout.splitlines()[-1].startswith("stats:    not allowed (401)")
    assert measuring.returncode == 0, measured
    lines = measured.splitlines()
    rates = re.fullmatch(
        r"rates:    ([0-9.]+) publications/s, ([0-9.]+) deliveries/s \(over [0-9.]+ s\)",
        lines[5],
    )
    assert rates is not None, measured
    assert float(rates[1]) > 0 and float(rates[2]) > 0, measured
    assert lines[6] == "topics:   2 subscriptions"
    assert {line.split()[0] for line in lines[7:]} == set(by_uri), measured


def test_rates_are_the_counters_moved_over_the_time_between_two_reads() -> None:
    def read(at: float, ingress: int, wamp: int, delivered: int) -> dict[str, Any]:
        topic = {
            "uri": "a.b",
            "match": "exact",
            "filtered": True,
            "sessions": 2,
            "publications": 7,
            "events_delivered": 14,
        }
        return {
            "time": at,
            "publications_received": {"ingress": ingress, "wamp": wamp},
            "events_delivered": delivered,
            "subscriptions": 1,
            "topics": [topic],
        }

    text = describe_activity(read(12.0, 30, 10, 400), read(10.0, 10, 0, 100))
    assert text.splitlines() == [
        "rates:    15.0 publications/s, 150.0 deliveries/s (over 2.0 s)",
        "topics:   1 subscriptions",
        "  a.b  exact, filtered       2 sessions         7 publications         14 delivered",
    ]
