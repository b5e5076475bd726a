"""Several gateway processes joined through a real redis-server: a publication on one reaches
subscribers on the others in order; a client whose gateway is killed with SIGKILL resumes on
another and recovers every event exactly once; Redis restarted mid-stream loses nothing (the
ingress answers 503 meanwhile and the publisher retries)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.types import PublishOptions
from ingress_posts import SteadySender, event, post
from recovering_subscriber import RecoveringSubscriber
from redis_server import RedisServer
from ticket_peers import EVENTS, SECRET, ticket_join, token, token_config
from twisted.internet import threads

from conftest import BACKEND_ID, BACKEND_SECRET, start_gateway
from gateway_harness import GatewayProcess, eventually, join, left
from raw_wamp import EVENT, SUBSCRIBE, SUBSCRIBED
from telegraphy.core import Publisher, Settings

ORDER = f"{EVENTS}.shop.Order"
ACK = PublishOptions(acknowledge=True)


def redis_config(redis: RedisServer, prefix: str) -> str:
    engine = f'[engine]\nkind = "redis"\nurl = "{redis.url}"\nprefix = "{prefix}"\n'
    return token_config() + "\n" + engine


def ready(gateway: GatewayProcess) -> bool:
    """Whether GET /ready answers 200 (the gateway is listening to Redis)."""
    try:
        with urllib.request.urlopen(f"{gateway.http_url}/ready", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.HTTPError, OSError):
        return False


class Cluster:
    """Gateways sharing one Redis under one key prefix, each in its own directory."""

    def __init__(
        self, root: Path, redis: RedisServer, size: int, prefix: str | None = None
    ) -> None:
        self.root = root
        self.config = redis_config(redis, prefix or f"scale-{uuid.uuid4().hex[:8]}:")
        self.gateways: list[GatewayProcess] = []
        self.logs: list[str] = []
        for _ in range(size):
            self.add()

    def add(self) -> GatewayProcess:
        directory = self.root / f"gateway-{len(self.gateways) + len(self.logs)}"
        directory.mkdir()
        gateway = start_gateway(directory, self.config)
        self.gateways.append(gateway)
        deadline = time.monotonic() + 20
        while not ready(gateway):
            assert time.monotonic() < deadline, gateway.output()
            time.sleep(0.05)
        return gateway

    def kill(self, gateway: GatewayProcess) -> None:
        gateway.process.kill()
        gateway.stop()
        self.logs.append(gateway.output_after_stop)
        self.gateways.remove(gateway)

    def stop(self) -> str:
        """Stop every gateway; their logs, for failure messages (no crash may be in them)."""
        outputs = list(self.logs)
        for gateway in self.gateways:
            outputs.append(gateway.output())
            gateway.stop()
        return "\n".join(outputs)


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisServer) -> Any:
    made = Cluster(tmp_path, redis_server, 3)
    yield made
    output = made.stop()
    assert "Traceback" not in output and "Unhandled" not in output, output


def numbers(subscriber: RecoveringSubscriber) -> list[int]:
    """The numbers seen: WAMP publications carry one, ingress events an envelope with one."""
    values = subscriber.values(ORDER)
    return [value["data"]["n"] if isinstance(value, dict) else value for value in values]


@pytest_twisted.ensureDeferred
async def test_publications_on_one_gateway_reach_subscribers_on_the_others_in_order(
    cluster: Cluster,
) -> None:
    first, second, third = cluster.gateways
    watchers = [RecoveringSubscriber(ORDER) for _ in range(3)]
    for watcher, gateway in zip(watchers, (first, second, third), strict=True):
        await watcher.connect(gateway.url)
    backend = await join(first.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    other = await join(third.url, authid=BACKEND_ID, secret=BACKEND_SECRET)

    # Two publishers on two gateways, interleaved, and the ingress of the second gateway.
    for n in range(0, 200, 2):
        await backend.publish(ORDER, n, options=ACK)
        await other.publish(ORDER, n + 1, options=ACK)
    assert post(second.port, "/ingress/event", event(200))[0] == 200
    await eventually(lambda: all(w.read() >= 201 for w in watchers))

    backend.leave()
    other.leave()
    await left(backend)
    await left(other)
    # Every gateway delivered the same stream, once each, in the order of their offsets.
    assert numbers(watchers[0]) == numbers(watchers[1]) == numbers(watchers[2]) == list(range(201))
    assert len({epoch for w in watchers for epoch in w.epochs}) == 1
    assert {w.positions[ORDER]["offset"] for w in watchers} == {201}


@pytest_twisted.ensureDeferred
async def test_a_client_of_a_killed_gateway_resumes_on_another_and_misses_nothing(
    cluster: Cluster,
) -> None:
    first, doomed, third = cluster.gateways
    count = 400
    settings = Settings(
        SECRET, f"http://127.0.0.1:{first.port}", batch_size=10, retry_max_delay=0.2
    )
    publisher = Publisher(settings)
    watcher = RecoveringSubscriber(ORDER)
    # A browser client with a persistent subscription, on the gateway that will die.
    client = await ticket_join(doomed.url, token("42", events=("shop.Order",)))
    answer = await client.request(SUBSCRIBE, 1, {"persistent": True}, ORDER)
    assert answer[0] == SUBSCRIBED, answer
    seen: list[dict[str, Any]] = []
    try:
        await watcher.connect(doomed.url)
        sender = SteadySender(publisher, count, interval=0.002)
        sending = sender.start()
        await eventually(lambda: watcher.read() >= 50)
        while len(seen) < 20:  # the browser client saw some, live
            seen.append((await client.expect(EVENT))[3])
        killed_after = sender.sent
        cluster.kill(doomed)
        await watcher.connect(third.url)  # with the positions it saw last
        position = {"offset": seen[-1]["offset"], "epoch": seen[-1]["epoch"]}
        resumed = await ticket_join(
            third.url,
            "",
            previous=client.details["authextra"]["client_id"],
            recover={"positions": {ORDER: position}},
        )
        await sending
        assert await threads.deferToThread(publisher.flush, 30)
        await eventually(lambda: watcher.read() >= count)
        replayed = [await resumed.expect(EVENT) for _ in range(count - 20 + 1)]
        await resumed.leave()
    finally:
        publisher.close(timeout=1)

    assert 50 <= killed_after < count
    assert numbers(watcher) == list(range(count))
    extra = resumed.details["authextra"]
    assert (extra["resumed"], extra["missed_events"]) == (True, "recovering")
    events = [m[4][0]["data"]["n"] for m in replayed if len(m) > 4]
    reports = [m[3]["recovery"] for m in replayed if len(m) <= 4]
    seen_numbers = list(range(20))
    assert seen_numbers + events == list(range(count))  # each once, in order
    assert [r[0]["gap"] for r in reports] == [None]


@pytest_twisted.ensureDeferred
async def test_redis_restarted_mid_stream_loses_nothing(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    made = Cluster(tmp_path, redis, 2)
    first, second = made.gateways
    count = 300
    settings = Settings(
        SECRET, f"http://127.0.0.1:{first.port}", batch_size=10, retry_max_delay=0.2
    )
    publisher = Publisher(settings)
    watcher = RecoveringSubscriber(ORDER)
    try:
        await watcher.connect(second.url)
        sender = SteadySender(publisher, count, interval=0.003)
        sending = sender.start()
        await eventually(lambda: watcher.read() >= 50)
        redis.stop()
        # Meanwhile the gateways say they cannot take publications.
        await eventually(lambda: not ready(first), 10)
        status, answer, headers = post(first.port, "/ingress/event", event(-1))
        assert status == 503 and "retry-after" in headers, answer
        redis.start()
        await sending
        assert await threads.deferToThread(publisher.flush, 60)
        await eventually(lambda: watcher.read() >= count, 30)
    finally:
        publisher.close(timeout=1)
        output = made.stop()
        redis.stop()

    assert publisher.stats.retries > 0, output  # the publisher met the outage
    assert numbers(watcher) == list(range(count)), output
    assert len(watcher.epochs) == 1  # Redis kept the stream (its append-only file)


@pytest_twisted.ensureDeferred
async def test_a_client_resumed_on_another_gateway_ends_its_session_on_the_first(
    cluster: Cluster,
) -> None:
    first, second, _ = cluster.gateways
    invoice = f"{EVENTS}.shop.Invoice"
    # A connection the client has given up on, still open on the first gateway.
    stale = await ticket_join(first.url, token("42", events=("shop.Order", "shop.Invoice")))
    client_id = stale.details["authextra"]["client_id"]
    answer = await stale.request(SUBSCRIBE, 1, {"persistent": True}, ORDER)
    assert answer[0] == SUBSCRIBED, answer

    moved = await ticket_join(second.url, "", previous=client_id)
    reason = await stale.expect_abort("telegraphy.error.session_replaced")
    assert "resumed by another session" in reason
    answer = await moved.request(SUBSCRIBE, 2, {"persistent": True}, invoice)
    assert answer[0] == SUBSCRIBED, answer
    await moved.leave()

    # The first gateway wrote nothing over the record the second one changed.
    again = await ticket_join(first.url, "", previous=client_id)
    topics = [s["topic"] for s in again.details["authextra"]["subscriptions"]]
    await again.leave()
    assert topics == [ORDER, invoice]
