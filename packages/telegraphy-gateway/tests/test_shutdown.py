"""Graceful shutdown: calls in flight are answered, then every session gets GOODBYE, and the
ingress refuses what it could no longer deliver."""

from __future__ import annotations

import http.client
import json
import signal
from pathlib import Path
from typing import Any

import pytest_twisted
from ingress_posts import event
from ticket_peers import SECRET
from twisted.internet import defer

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG, start_gateway
from gateway_harness import GatewayProcess, eventually, join, left, within
from raw_wamp import WELCOME, WampPeer
from telegraphy.core import sign_request


async def backend(gateway: GatewayProcess):  # type: ignore[no-untyped-def]
    return await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)


@pytest_twisted.ensureDeferred
async def test_call_in_flight_is_answered_then_goodbye(gateway: GatewayProcess) -> None:
    callee, caller, bystander = (
        await backend(gateway),
        await backend(gateway),
        await backend(gateway),
    )
    release: defer.Deferred[str] = defer.Deferred()
    invoked: defer.Deferred[None] = defer.Deferred()

    def slow() -> defer.Deferred[str]:
        invoked.callback(None)
        return release

    await callee.register(slow, "app.slow")
    result = caller.call("app.slow")
    await within(invoked)

    gateway.process.send_signal(signal.SIGTERM)
    await eventually(lambda: "shutting down: 3 sessions, 1 calls in flight" in gateway.output())
    release.callback("finished")

    assert await within(result) == "finished"
    for session in (callee, caller, bystander):
        assert (await left(session)).reason == "wamp.close.system_shutdown"
    await eventually(lambda: gateway.process.poll() is not None)
    assert gateway.process.returncode == 0


async def call_in_flight(gateway: GatewayProcess) -> tuple[Any, defer.Deferred[Any]]:
    """A caller, and its call that the callee received and will never answer."""
    callee, caller = await backend(gateway), await backend(gateway)
    invoked: defer.Deferred[None] = defer.Deferred()

    def never() -> defer.Deferred[None]:
        invoked.callback(None)
        return defer.Deferred()

    await callee.register(never, "app.never")
    result = caller.call("app.never")
    await within(invoked)
    return caller, result


@pytest_twisted.ensureDeferred
async def test_call_unanswered_by_the_deadline_is_canceled(gateway: GatewayProcess) -> None:
    caller, result = await call_in_flight(gateway)
    gateway.process.send_signal(signal.SIGTERM)

    try:
        await within(result)
        raise AssertionError("the call should have been canceled")
    except Exception as e:  # autobahn raises ApplicationError with the WAMP error URI
        assert getattr(e, "error", None) == "wamp.error.canceled"
    assert (await left(caller)).reason == "wamp.close.system_shutdown"
    await eventually(lambda: gateway.process.poll() is not None)
    assert gateway.process.returncode == 0


@pytest_twisted.ensureDeferred
async def test_a_second_sigterm_while_stopping_changes_nothing(gateway: GatewayProcess) -> None:
    _, result = await call_in_flight(gateway)
    result.addErrback(lambda failure: None)  # canceled at the deadline
    gateway.process.send_signal(signal.SIGTERM)  # the stop waits for the call in flight
    await eventually(lambda: "shutting down" in gateway.output())
    gateway.process.send_signal(signal.SIGTERM)

    await eventually(lambda: gateway.process.poll() is not None)
    output = gateway.output()
    assert gateway.process.returncode == 0, output
    assert "Traceback" not in output and "CRITICAL" not in output.upper(), output
    assert output.count("telegraphy-gateway stopped") == 1, output


def post_on(connection: http.client.HTTPConnection, body: Any) -> tuple[int, Any, str | None]:
    """A signed POST /ingress/event on an open keep-alive connection."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    headers.update(sign_request(SECRET, "POST", "/ingress/event", raw))
    connection.request("POST", "/ingress/event", body=raw, headers=headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read()), response.getheader("retry-after")


NOT_ACCEPTING = "not accepting: starting or shutting down"


def ready_on(connection: http.client.HTTPConnection) -> tuple[int, Any]:
    connection.request("GET", "/ready")
    response = connection.getresponse()
    return response.status, json.loads(response.read())


@pytest_twisted.ensureDeferred
async def test_after_sigterm_the_ingress_refuses_and_ready_says_not_to_send_traffic(
    tmp_path: Path,
) -> None:
    gateway = start_gateway(tmp_path, f'secret = "{SECRET}"\n' + DEFAULT_CONFIG)
    try:
        # A client that never answers GOODBYE keeps the gateway in its shutdown for a while.
        stubborn = await WampPeer.connect(gateway.url)
        assert (await stubborn.hello(["anonymous"]))[0] == WELCOME
        connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
        assert post_on(connection, event(1))[0] == 200
        assert ready_on(connection) == (200, {"ready": True, "reasons": []})

        gateway.process.send_signal(signal.SIGTERM)
        await eventually(lambda: "shutting down" in gateway.output())

        status, answer, retry_after = post_on(connection, event(2))  # the same connection
        assert (status, answer["error"], retry_after) == (503, "shutting_down", "1")
        not_ready = ready_on(connection)  # what a load balancer asks: send nothing here
        assert not_ready == (503, {"ready": False, "reasons": [NOT_ACCEPTING]})
        connection.close()
    finally:
        gateway.stop()
