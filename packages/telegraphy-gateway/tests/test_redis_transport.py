"""The web app's `transport = "redis"`: events appended to the ingress stream wait in Redis
while every gateway is down and are published, once each and in order, when gateways come up;
an entry not signed with the secret is refused and kept aside with the reason."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest_twisted
import redis
from ingress_posts import event
from recovering_subscriber import RecoveringSubscriber
from redis_server import RedisServer
from test_scale_out import ORDER, Cluster, numbers
from ticket_peers import SECRET
from twisted.internet import threads

from gateway_harness import eventually
from telegraphy.core import Publisher, Settings


def redis_publisher(server: RedisServer, prefix: str) -> Publisher:
    settings = Settings(
        SECRET, transport="redis", redis_url=server.url, redis_prefix=prefix, batch_size=10
    )
    return Publisher(settings)


@pytest_twisted.ensureDeferred
async def test_events_wait_in_redis_while_every_gateway_is_down(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    prefix = f"transport-{uuid.uuid4().hex[:8]}:"
    publisher = redis_publisher(redis_server, prefix)
    repeated = event(49)
    try:
        for n in range(49):
            publisher.send(event(n))
        publisher.send(repeated)
        publisher.send(repeated)  # the same event id again: published once
        assert await threads.deferToThread(publisher.flush, 10)
    finally:
        publisher.close(timeout=1)
    client = redis.Redis.from_url(redis_server.url)
    assert client.xlen(f"{prefix}ingress") > 0  # waiting: no gateway runs

    cluster = Cluster(tmp_path, redis_server, 2, prefix=prefix)
    try:
        watcher = RecoveringSubscriber(ORDER)
        # From the start of the stream: whatever was published before it subscribed.
        await watcher.connect(
            cluster.gateways[1].url, recover={"positions": {ORDER: {"offset": 0, "epoch": ""}}}
        )
        await eventually(lambda: watcher.read() >= 50)
        await eventually(lambda: client.xlen(f"{prefix}ingress") == 0)
    finally:
        output = cluster.stop()
    assert numbers(watcher) == list(range(50)), output
    assert "Traceback" not in output


@pytest_twisted.ensureDeferred
async def test_an_entry_not_signed_with_the_secret_is_refused_and_kept_aside(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    prefix = f"forged-{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(redis_server.url)
    client.xadd(
        f"{prefix}ingress",
        {"body": b'{"events": []}', "timestamp": "1", "nonce": "x" * 16, "signature": "v1=00"},
    )
    cluster = Cluster(tmp_path, redis_server, 1, prefix=prefix)
    publisher = redis_publisher(redis_server, prefix)
    try:
        watcher = RecoveringSubscriber(ORDER)
        await watcher.connect(cluster.gateways[0].url)
        publisher.send(event(7))
        assert await threads.deferToThread(publisher.flush, 10)
        await eventually(lambda: watcher.read() >= 1)
        await eventually(lambda: client.xlen(f"{prefix}ingress-refused") == 1)
    finally:
        publisher.close(timeout=1)
        output = cluster.stop()
    assert numbers(watcher) == [7]
    ((_, refused),) = client.xrange(f"{prefix}ingress-refused")
    assert refused[b"code"] == b"bad_signature", refused
    assert "refused Redis ingress entry" in output and "bad_signature" in output
