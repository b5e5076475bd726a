"""Graceful shutdown: calls in flight are answered, then every session gets GOODBYE."""

from __future__ import annotations

import signal

import pytest_twisted
from twisted.internet import defer

from conftest import BACKEND_ID, BACKEND_SECRET
from gateway_harness import GatewayProcess, eventually, join, left, within


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


@pytest_twisted.ensureDeferred
async def test_call_unanswered_by_the_deadline_is_canceled(gateway: GatewayProcess) -> None:
    callee, caller = await backend(gateway), await backend(gateway)
    invoked: defer.Deferred[None] = defer.Deferred()

    def never() -> defer.Deferred[None]:
        invoked.callback(None)
        return defer.Deferred()

    await callee.register(never, "app.never")
    result = caller.call("app.never")
    await within(invoked)
    gateway.process.send_signal(signal.SIGTERM)

    try:
        await within(result)
        raise AssertionError("the call should have been canceled")
    except Exception as e:  # autobahn raises ApplicationError with the WAMP error URI
        assert getattr(e, "error", None) == "wamp.error.canceled"
    assert (await left(caller)).reason == "wamp.close.system_shutdown"
    await eventually(lambda: gateway.process.poll() is not None)
    assert gateway.process.returncode == 0
