"""The publisher against a real gateway and a real WAMP subscriber: events sent while the
gateway is down all arrive, in order, once it is up; an invalid one is isolated and dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor, threads
from twisted.protocols.portforward import ProxyFactory

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG, free_port, start_gateway
from gateway_harness import Inbox, eventually, join
from telegraphy.core import Publisher, Settings, event_topic

SECRET = "end-to-end-secret-0123456789"
CONFIG = f'secret = "{SECRET}"\n' + DEFAULT_CONFIG
NAME = "shop.Order"
COUNT = 200
INVALID = 57


def envelope(n: int) -> dict[str, Any]:
    # One event the gateway must refuse: an id longer than the envelope allows.
    event_id = "x" * 500 if n == INVALID else f"order-{n}"
    return {
        "name": NAME,
        "meta": {"event_type": "create", "timestamp": "2025-01-01T00:00:00Z", "id": event_id},
        "data": {"n": n},
    }


@pytest.mark.parametrize("transport", ["http", "xmlrpc"])
@pytest_twisted.ensureDeferred
async def test_events_sent_while_the_gateway_is_down_all_arrive_in_order(
    tmp_path: Path, transport: str
) -> None:
    # The publisher talks to the gateway through a port that refuses connections until the
    # test opens it, so the subscriber can join before the first event is delivered.
    path_port = free_port()
    publisher = Publisher(
        Settings(
            secret=SECRET,
            gateway_url=f"http://127.0.0.1:{path_port}",
            transport=transport,
            batch_size=25,
            retry_max_delay=0.5,
        )
    )
    for n in range(COUNT):
        publisher.send(envelope(n))  # type: ignore[arg-type]
    await eventually(lambda: publisher.stats.retries >= 1)  # down: the worker failed already
    assert publisher.stats.queued == COUNT and publisher.stats.delivered == 0

    gateway = await threads.deferToThread(start_gateway, tmp_path, CONFIG)
    listening = None
    try:
        subscriber = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        inbox = Inbox()
        await subscriber.subscribe(inbox, event_topic(NAME, "telegraphy.event"))
        listening = reactor.listenTCP(
            path_port, ProxyFactory("127.0.0.1", gateway.port), interface="127.0.0.1"
        )
        expected = [n for n in range(COUNT) if n != INVALID]
        for n in expected:
            args, kwargs = await inbox.next()
            assert args == (envelope(n),) and kwargs == {}
        assert await threads.deferToThread(publisher.flush, 10)
        stats = publisher.stats
        assert (stats.delivered, stats.rejected, stats.dropped) == (COUNT - 1, 1, 0)
        assert inbox.pending == 0
        subscriber.leave()
    finally:
        publisher.close(timeout=1)
        if listening is not None:
            await listening.stopListening()
        await threads.deferToThread(gateway.stop)
    assert "Traceback" not in gateway.output_after_stop, gateway.output_after_stop
