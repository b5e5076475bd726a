"""The [limits] section: message size and per-session subscriptions, registrations and calls.

One gateway with small limits serves the module; each test ends by checking that it still
serves other clients.
"""

from __future__ import annotations

import json

import pytest_twisted

from conftest import assert_gateway_serves, config_with_limits, module_gateway
from gateway_harness import GatewayProcess
from raw_wamp import (
    CALL,
    ERROR,
    INVOCATION,
    PUBLISH,
    PUBLISHED,
    REGISTER,
    REGISTERED,
    RESULT,
    SUBSCRIBE,
    SUBSCRIBED,
    UNREGISTER,
    UNSUBSCRIBE,
    YIELD,
    raw_join,
)

MAX_MESSAGE_SIZE = 4096
MAX_SUBSCRIPTIONS = 3
MAX_REGISTRATIONS = 2
MAX_PENDING_CALLS = 2
LIMIT_EXCEEDED = "telegraphy.error.limit_exceeded"

gateway = module_gateway(
    config_with_limits(
        max_message_size=MAX_MESSAGE_SIZE,
        max_subscriptions_per_session=MAX_SUBSCRIPTIONS,
        max_registrations_per_session=MAX_REGISTRATIONS,
        max_pending_calls_per_session=MAX_PENDING_CALLS,
        shutdown_timeout=0.5,
    )
)


def publish_of_size(request: int, size: int) -> str:
    """An acknowledged PUBLISH whose JSON text is exactly `size` bytes."""
    empty = json.dumps([PUBLISH, request, {"acknowledge": True}, "app.big", [""]])
    return json.dumps(
        [PUBLISH, request, {"acknowledge": True}, "app.big", ["x" * (size - len(empty))]]
    )


@pytest_twisted.ensureDeferred
async def test_message_over_max_message_size_closes_the_connection(
    gateway: GatewayProcess,
) -> None:
    peer = await raw_join(gateway.url, backend=True)
    at_limit = publish_of_size(1, MAX_MESSAGE_SIZE)
    assert len(at_limit) == MAX_MESSAGE_SIZE
    peer.raw.send(at_limit)
    assert (await peer.expect(PUBLISHED))[1] == 1

    peer.raw.send(publish_of_size(2, MAX_MESSAGE_SIZE + 1))
    code, _ = await peer.closed()
    assert code == 1009  # RFC 6455: message too big
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_subscriptions_per_session_are_limited(gateway: GatewayProcess) -> None:
    peer = await raw_join(gateway.url, backend=True)
    ids = []
    for n in range(MAX_SUBSCRIPTIONS):
        peer.send(SUBSCRIBE, n, {}, f"app.topic{n}")
        ids.append((await peer.expect(SUBSCRIBED))[2])
    # Subscribing again to a topic the session has returns the same subscription, uncounted.
    peer.send(SUBSCRIBE, 10, {}, "app.topic0")
    assert (await peer.expect(SUBSCRIBED))[1:] == [10, ids[0]]

    peer.send(SUBSCRIBE, 11, {"match": "prefix"}, "app.topic")
    await peer.expect_error(SUBSCRIBE, 11, LIMIT_EXCEEDED)

    # Another session is not affected, and leaving one subscription makes room again.
    other = await raw_join(gateway.url, backend=True)
    other.send(SUBSCRIBE, 1, {}, "app.topic9")
    await other.expect(SUBSCRIBED)
    peer.send(UNSUBSCRIBE, 12, ids[1])
    await peer.receive()
    peer.send(SUBSCRIBE, 13, {}, "app.topic9")
    assert (await peer.expect(SUBSCRIBED))[1] == 13
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_registrations_per_session_are_limited(gateway: GatewayProcess) -> None:
    peer = await raw_join(gateway.url, backend=True)
    ids = []
    for n in range(MAX_REGISTRATIONS):
        peer.send(REGISTER, n, {}, f"app.limited.proc{n}")
        ids.append((await peer.expect(REGISTERED))[2])

    peer.send(REGISTER, 10, {}, "app.limited.extra")
    await peer.expect_error(REGISTER, 10, LIMIT_EXCEEDED)

    peer.send(UNREGISTER, 11, ids[0])
    await peer.receive()
    peer.send(REGISTER, 12, {}, "app.limited.extra")
    assert (await peer.expect(REGISTERED))[1] == 12
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_pending_calls_per_session_are_limited(gateway: GatewayProcess) -> None:
    callee = await raw_join(gateway.url, backend=True)
    callee.send(REGISTER, 1, {}, "app.slow")
    await callee.expect(REGISTERED)
    caller = await raw_join(gateway.url, backend=True)

    invocations = []
    for n in range(MAX_PENDING_CALLS):
        caller.send(CALL, n, {}, "app.slow", [n])
        invocations.append(await callee.expect(INVOCATION))
    # The callee has not answered: one more call is over the limit.
    caller.send(CALL, 10, {}, "app.slow", [10])
    await caller.expect_error(CALL, 10, LIMIT_EXCEEDED)

    # Once the callee answers one (with a result) and another (with an error), calls work again.
    callee.send(YIELD, invocations[0][1], {}, ["done"])
    assert (await caller.expect(RESULT))[1:4] == [0, {}, ["done"]]
    callee.send(ERROR, INVOCATION, invocations[1][1], {}, "app.error.failed")
    await caller.expect_error(CALL, 1, "app.error.failed")
    # Both slots are free again: two more calls may be in flight at once.
    for request in (11, 12):
        caller.send(CALL, request, {}, "app.slow", [request])
    for request in (11, 12):
        invocation = await callee.expect(INVOCATION)
        assert invocation[4] == [request]
        callee.send(YIELD, invocation[1], {})
        assert (await caller.expect(RESULT))[1] == request
    await assert_gateway_serves(gateway)
