"""Bounded memory: a subscriber that stops reading is cut off; the others are not slowed."""

from __future__ import annotations

import socket

import pytest
import pytest_twisted
from autobahn.wamp.types import PublishOptions
from twisted.internet import defer

from conftest import BACKEND_ID, BACKEND_SECRET, config_with_limits
from gateway_harness import GatewayProcess, Inbox, join, within
from raw_wamp import ABORT, EVENT, SUBSCRIBE, SUBSCRIBED, WELCOME, WampPeer

TOPIC = "telegraphy.public.news"
LIMIT = 256 * 1024
EVENTS = 1500
PAYLOAD = "x" * 16 * 1024  # 1500 events of 16 KiB: far more than the socket buffers hold


@pytest.fixture
def gateway_config() -> str:
    return config_with_limits(max_output_buffer=LIMIT)


async def stalled_subscriber(gateway: GatewayProcess) -> WampPeer:
    peer = await WampPeer.connect(gateway.url)
    assert (await peer.hello())[0] == WELCOME
    peer.send(SUBSCRIBE, 1, {}, TOPIC)
    await peer.expect(SUBSCRIBED)
    # A fixed receive buffer (no autotuning up to tens of MB) so the backlog reaches the
    # gateway soon; larger than loopback's MSS so window updates still flow on resume.
    transport = peer.raw.protocol.transport
    transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
    transport.pauseProducing()  # stop reading from the socket
    return peer


@pytest_twisted.ensureDeferred
async def test_slow_consumer_is_cut_off_and_others_get_everything(gateway: GatewayProcess) -> None:
    slow = await stalled_subscriber(gateway)
    publisher = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    reader = await join(gateway.url)
    inbox = Inbox()
    await reader.subscribe(inbox, TOPIC)
    leaving = Inbox()
    await publisher.subscribe(leaving, "wamp.session.on_leave")

    # Lockstep: the healthy reader gets each event before the next is published, so it never
    # has a backlog, while the stalled one accumulates everything.
    async def publish_all() -> None:
        for i in range(EVENTS):
            await publisher.publish(TOPIC, i, PAYLOAD, options=PublishOptions(acknowledge=True))
            args, _ = await inbox.next()
            assert args[0] == i

    publishing = defer.ensureDeferred(publish_all())

    (left_id, _, left_role), _ = await leaving.next(seconds=60)
    assert left_role == "anonymous" and left_id != reader._session_id
    slow.raw.protocol.transport.resumeProducing()
    while (message := await slow.receive())[0] == EVENT:
        pass  # the EVENTs queued before the cut
    assert message[0] == ABORT and message[2] == "telegraphy.error.slow_consumer"
    code, reason = await slow.closed()
    assert code == 4008 and "output buffer limit" in (reason or "")

    await within(publishing, 120)
    assert await publisher.call("wamp.session.count") == 2
    assert "output buffer limit of 262144 bytes exceeded" in gateway.output()
