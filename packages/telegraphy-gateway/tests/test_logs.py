"""Log lines carry stable event names: every call in the gateway's code names its event, every
name is documented, and a real gateway's JSON log of a scripted scenario reads as those names."""

from __future__ import annotations

import ast
import http.client
import json
import re
from pathlib import Path
from typing import Any

import pytest_twisted
from ingress_posts import event, post
from ticket_peers import SECRET

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG, start_gateway
from gateway_harness import join, left
from raw_wamp import ABORT, PUBLISH, WampPeer, raw_join
from telegraphy.gateway.logs import event_name

SOURCE = Path(__file__).parents[1] / "src" / "telegraphy" / "gateway"
OPERATIONS = Path(__file__).parents[3] / "docs" / "operations.rst"
LEVELS = {"debug", "info", "warn", "error", "critical", "failure"}


def documented_events() -> set[str]:
    section = OPERATIONS.read_text().split("Log events\n", 1)[1]
    return set(re.findall(r"^   \* - ``([a-z_]+\.[a-z_]+)``", section, re.MULTILINE))


def logged_events() -> dict[str, str | None]:
    """Every log call in the gateway's code (file:line) with the event it names, if any."""
    found = {}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
                and node.func.attr in LEVELS
            ):
                named = [k.value for k in node.keywords if k.arg == "event"]
                value = named[0].value if named and isinstance(named[0], ast.Constant) else None
                found[f"{path.relative_to(SOURCE)}:{node.lineno}"] = value
    return found


def test_every_log_call_names_a_documented_event() -> None:
    calls = logged_events()
    assert len(calls) > 40
    unnamed = [where for where, name in calls.items() if name is None]
    assert not unnamed, unnamed
    undocumented = {name for name in calls.values()} - documented_events()
    assert not undocumented, undocumented


def test_lines_of_twisted_get_names_too() -> None:
    assert event_name({"log_format": "Main loop terminated.", "log_namespace": "twisted.x"}) == (
        "reactor.stopped"
    )
    legacy = {"log_namespace": "log_legacy", "log_text": "GatewaySite starting on 9000"}
    assert event_name(legacy) == "listener.started"
    assert event_name({"log_namespace": "autobahn.websocket", "log_format": "?"}) == "autobahn.log"
    assert event_name({"log_failure": object(), "log_namespace": "twisted"}) == "error.unhandled"


def events_of(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all("event" in line for line in lines), [x for x in lines if "event" not in x]
    return lines


def in_order(names: list[str], expected: list[str]) -> bool:
    remaining = iter(names)
    return all(name in remaining for name in expected)


@pytest_twisted.ensureDeferred
async def test_a_scripted_scenario_reads_as_event_names_in_json(tmp_path: Path) -> None:
    config = f'secret = "{SECRET}"\n' + DEFAULT_CONFIG
    args = ("--log-format", "json", "--log-level", "debug")
    gateway = start_gateway(tmp_path, config, extra_args=args)
    try:
        backend = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        stranger = await WampPeer.connect(gateway.url)
        assert (await stranger.hello(realm="elsewhere"))[0] == ABORT
        assert post(gateway.port, "/ingress/event", event(1))[0] == 200
        unsigned = json.dumps(event(2)).encode()
        assert _post_unsigned(gateway.port, unsigned) == 401
        anonymous = await raw_join(gateway.url, roles={"publisher": {}})
        anonymous.send(PUBLISH, 1, {}, "telegraphy.public.news", ["not allowed"])
        await anonymous.leave()  # answered after the PUBLISH was: its refusal is logged
        gateway.process.terminate()
        await left(backend)
        gateway.process.wait(timeout=15)  # a second SIGTERM (from stop) would cut the shutdown
    finally:
        gateway.stop()
    lines = events_of(gateway.output_after_stop)
    names = [line["event"] for line in lines]
    assert in_order(
        names,
        [
            "gateway.started",
            "session.joined",
            "session.aborted",
            "ingress.published",
            "ingress.refused",
            "session.joined",
            "publication.refused",
            "session.left",
            "gateway.signal",
            "gateway.stopping",
            "session.left",
            "gateway.stopped",
            "reactor.stopped",
        ],
    ), names
    assert "error.unhandled" not in names
    by_name = {line["event"]: line for line in lines}
    assert by_name["session.aborted"]["reason"] == "wamp.error.no_such_realm"
    assert by_name["ingress.refused"]["status"] == 401
    assert by_name["publication.refused"]["topic"] == "telegraphy.public.news"
    joined = [line for line in lines if line["event"] == "session.joined"]
    assert [line["authrole"] for line in joined] == ["backend", "anonymous"]
    own = {n for n in names if not n.endswith(".log")}
    assert own <= documented_events(), own - documented_events()


def _post_unsigned(port: int, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/ingress/event", body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()
