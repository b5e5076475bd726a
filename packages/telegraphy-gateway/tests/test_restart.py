"""What the SQLite engine keeps across a gateway restart, with real processes: a gateway killed
with SIGKILL while the web app's Publisher sends loses and repeats nothing; persistent
subscriptions and the spent-token ledger outlive a graceful restart; an engine that cannot write
is answered with 503 until the gateway restarts."""

from __future__ import annotations

import http.client
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest_twisted
from autobahn.wamp.types import PublishOptions
from ingress_posts import SteadySender, event, post
from recovering_subscriber import RecoveringSubscriber
from ticket_peers import EVENTS, SECRET, refusal, ticket_join, token, token_config
from twisted.internet import defer, threads

from conftest import BACKEND_ID, BACKEND_SECRET, start_gateway
from gateway_command import free_port
from gateway_harness import GatewayProcess, eventually, join, left
from raw_wamp import EVENT, GOODBYE, SUBSCRIBE, SUBSCRIBED, WampPeer
from telegraphy.core import Publisher, Settings

ORDER = f"{EVENTS}.shop.Order"
ACK = PublishOptions(acknowledge=True)


class Restartable:
    """A gateway process on a fixed port, restarted in the same working directory (so with
    the same SQLite file); each run's log is kept beside it."""

    def __init__(self, directory: Path, config: str) -> None:
        self._directory = directory
        self._config = config
        self._port = free_port()
        self.runs = 0
        self.process = self._start()

    @property
    def url(self) -> str:
        return self.process.url

    def _start(self) -> GatewayProcess:
        self.runs += 1
        return start_gateway(self._directory, self._config, port=self._port)

    def _stopped(self) -> None:
        self.process.stop()
        log = self._directory / "gateway.log"
        log.rename(self._directory / f"gateway-{self.runs}.log")

    async def restart(self, *, kill: bool = False) -> None:
        """SIGKILL (nothing finished, nothing flushed) or SIGTERM (a graceful stop, while the
        test's clients go on answering), then start again."""
        if kill:
            self.process.process.kill()
            self.process.process.wait()
        else:
            assert await threads.deferToThread(self.process.stop) == 0
        self._stopped()
        self.process = self._start()

    def stop(self) -> str:
        """Stop for good; every run's log, for failure messages."""
        self._stopped()
        logs = sorted(self._directory.glob("gateway-*.log"))
        return "\n".join(path.read_text(errors="replace") for path in logs)


def publisher_for(gateway: Restartable) -> Publisher:
    """The web app's publisher, retrying quickly."""
    url = f"http://127.0.0.1:{gateway.process.port}"
    settings = Settings(SECRET, url, batch_size=10, retry_max_delay=0.2, timeout=2.0)
    return Publisher(settings)


def numbers(subscriber: RecoveringSubscriber) -> list[int]:
    return [event["data"]["n"] for event in subscriber.values(ORDER)]


@pytest_twisted.ensureDeferred
async def test_a_gateway_killed_while_the_publisher_sends_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    count = 600
    gateway = Restartable(tmp_path, token_config())
    publisher = publisher_for(gateway)
    watcher = RecoveringSubscriber(ORDER)
    try:
        await watcher.connect(gateway.url)
        sender = SteadySender(publisher, count, interval=0.003)
        sending = sender.start()
        await eventually(lambda: watcher.read() >= 60)
        epoch = watcher.positions[ORDER]["epoch"]

        killed_after = sender.sent
        await gateway.restart(kill=True)
        await sending
        assert await threads.deferToThread(publisher.flush, 30)
        # One that recovers from where it was cut off, one from the start of the stream.
        await watcher.connect(gateway.url)
        newcomer = RecoveringSubscriber(ORDER)
        await newcomer.connect(
            gateway.url, recover={"positions": {ORDER: {"offset": 0, "epoch": epoch}}}
        )
        await eventually(lambda: watcher.read() >= count and newcomer.read() >= count)
        # A last event: once it is seen, anything repeated before it would have been seen too.
        assert post(gateway.process.port, "/ingress/event", event(count))[0] == 200
        await eventually(lambda: watcher.read() > count and newcomer.read() > count)
    finally:
        publisher.close(timeout=1)
        logs = gateway.stop()

    assert 60 <= killed_after < count, logs  # the kill came mid-stream
    assert publisher.stats.retries > 0  # the publisher met the dead gateway
    assert numbers(watcher) == list(range(count + 1)), logs
    assert numbers(newcomer) == list(range(count + 1)), logs
    # The restart kept the stream: same epoch, offsets 1..count, every report without a gap.
    assert watcher.epochs == newcomer.epochs == {epoch}
    last = {"offset": count + 1, "epoch": epoch}
    assert watcher.positions[ORDER] == newcomer.positions[ORDER] == last
    assert [r["gap"] for report in watcher.reports + newcomer.reports for r in report] == [
        None,
        None,
    ]


async def persistent_client(gateway: Restartable) -> WampPeer:
    client = await ticket_join(gateway.url, token("42", events=("shop.Order",)))
    answer = await client.request(SUBSCRIBE, 1, {"persistent": True}, ORDER)
    assert answer[0] == SUBSCRIBED, answer
    return client


async def resume(gateway: Restartable, client: WampPeer) -> tuple[WampPeer, int]:
    """Resume `client` without a token; the id of its one restored (persistent) subscription."""
    client_id = client.details["authextra"]["client_id"]
    resumed = await ticket_join(gateway.url, "", previous=client_id)
    extra = resumed.details["authextra"]
    assert (extra["client_id"], extra["resumed"], extra["missed_events"]) == (
        client_id,
        True,
        "recovering",
    )
    (restored,) = extra["subscriptions"]
    assert (restored["topic"], restored["persistent"]) == (ORDER, True)
    return resumed, restored["id"]


@pytest_twisted.ensureDeferred
async def test_a_persistent_subscription_recovers_what_was_missed_across_a_restart(
    tmp_path: Path,
) -> None:
    gateway = Restartable(tmp_path, token_config())
    try:
        backend = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        away, present = await persistent_client(gateway), await persistent_client(gateway)
        await backend.publish(ORDER, "seen live", options=ACK)
        live = await away.expect(EVENT)
        await away.leave()
        for value in ("m1", "m2", "m3"):
            await backend.publish(ORDER, value, options=ACK)
        backend.leave()
        await left(backend)
        # `present` sees everything live and is still connected when the gateway stops.
        assert [(await present.expect(EVENT))[4] for _ in range(4)] == [
            ["seen live"],
            ["m1"],
            ["m2"],
            ["m3"],
        ]
        restarted = defer.ensureDeferred(gateway.restart())
        goodbye = await present.expect(GOODBYE)
        present.send(GOODBYE, {}, "wamp.close.goodbye_and_out")
        await restarted

        resumed, subscription = await resume(gateway, away)
        replay = [await resumed.expect(EVENT) for _ in range(4)]
        again, again_subscription = await resume(gateway, present)
        report = await again.expect(EVENT)
        await resumed.leave()
        await again.leave()
    finally:
        logs = gateway.stop()

    epoch = live[3]["epoch"]
    # What the client that left missed, replayed from the history the restart kept...
    assert [(m[1], m[3]["offset"], m[4], m[3]["recovered"]) for m in replay[:3]] == [
        (subscription, offset, [value], True) for offset, value in ((2, "m1"), (3, "m2"), (4, "m3"))
    ], logs
    assert replay[3][1:2] + replay[3][3:] == [
        subscription,
        {"recovery": [{"topic": ORDER, "offset": 4, "epoch": epoch, "recovered": 3, "gap": None}]},
    ]
    # ...and nothing for the one that was there until the shutdown: its position was kept then.
    assert goodbye[2] == "wamp.close.system_shutdown"
    assert report[1:2] + report[3:] == [
        again_subscription,
        {"recovery": [{"topic": ORDER, "offset": 4, "epoch": epoch, "recovered": 0, "gap": None}]},
    ]


@pytest_twisted.ensureDeferred
async def test_spent_tokens_and_accepted_event_ids_are_kept_across_a_restart(
    tmp_path: Path,
) -> None:
    gateway = Restartable(tmp_path, token_config())
    try:
        ticket = token("42")
        first = await ticket_join(gateway.url, ticket)
        await first.leave()
        sent = event(1)
        published = post(gateway.process.port, "/ingress/event", sent)

        await gateway.restart()

        message = await refusal(gateway.url, ticket)
        fresh = await ticket_join(gateway.url, token("42"))
        await fresh.leave()
        again = post(gateway.process.port, "/ingress/event", sent)
    finally:
        logs = gateway.stop()
    assert message == "token already used", logs
    assert (published[0], again[0]) == (200, 200)
    # The web app's retry after the restart is acknowledged, at the same position, not published.
    assert again[1] == {**published[1], "published": 0, "duplicates": 1}


@pytest_twisted.ensureDeferred
async def test_an_engine_that_cannot_write_is_answered_503_until_a_restart(
    tmp_path: Path,
) -> None:
    gateway = Restartable(tmp_path, token_config())
    publisher = publisher_for(gateway)
    try:
        kept = post(gateway.process.port, "/ingress/event", event(1))
        with closing(sqlite3.connect(tmp_path / "telegraphy-gateway.sqlite3")) as other:
            other.execute("DROP TABLE events")  # as a failing disk: no write succeeds from now
        refused = [post(gateway.process.port, "/ingress/event", event(n)) for n in (2, 3)]
        failed_ready = ready(gateway.process.port)
        publisher.send(event(4))
        await eventually(lambda: publisher.stats.retries >= 2)  # answered 503, tried again

        await gateway.restart()  # the schema is made again; the stream's position was kept

        assert await threads.deferToThread(publisher.flush, 10)
        accepted = post(gateway.process.port, "/ingress/event", event(5))
        restarted_ready = ready(gateway.process.port)
    finally:
        publisher.close(timeout=1)
        logs = gateway.stop()

    assert kept[0] == 200, logs
    for status, answer, headers in refused:
        assert (status, answer["error"], headers["retry-after"]) == (503, "unavailable", "1")
        assert "retry later" in answer["message"]
    assert (publisher.stats.delivered, publisher.stats.rejected) == (1, 0)
    assert accepted[0] == 200
    assert accepted[1]["positions"][0] == {**kept[1]["positions"][0], "offset": 3}
    assert "the SQLite engine cannot write" in logs
    assert failed_ready[0] == 503 and failed_ready[1]["ready"] is False
    assert "the SQLite engine cannot write" in failed_ready[1]["reasons"][0]
    assert restarted_ready == (200, {"ready": True, "reasons": []})


def ready(port: int) -> tuple[int, Any]:
    """GET /ready: its status and JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/ready")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest_twisted.ensureDeferred
async def test_a_persistent_prefix_subscription_recovers_since_it_left_across_a_restart(
    tmp_path: Path,
) -> None:
    news = f"{EVENTS}.news."
    gateway = Restartable(tmp_path, token_config())
    try:
        backend = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        client = await ticket_join(gateway.url, token("42"))
        answer = await client.request(SUBSCRIBE, 1, {"match": "prefix", "persistent": True}, news)
        assert answer[0] == SUBSCRIBED, answer
        await backend.publish(f"{news}Sport", "seen live", options=ACK)
        await client.expect(EVENT)
        await client.leave()
        for topic, value in (("Sport", "s2"), ("Weather", "w1"), ("Sport", "s3")):
            await backend.publish(f"{news}{topic}", value, options=ACK)
        backend.leave()
        await left(backend)

        await gateway.restart()
        resumed = await ticket_join(
            gateway.url, "", previous=client.details["authextra"]["client_id"]
        )
        replay = [await resumed.expect(EVENT) for _ in range(4)]
        await resumed.leave()
    finally:
        logs = gateway.stop()

    assert [(m[3]["topic"], m[4], m[3]["recovered"]) for m in replay[:3]] == [
        (f"{news}Sport", ["s2"], True),
        (f"{news}Sport", ["s3"], True),
        (f"{news}Weather", ["w1"], True),
    ], logs
    report = replay[3][3]["recovery"]
    assert [(r["topic"], r["offset"], r["recovered"], r["gap"]) for r in report] == [
        (f"{news}Sport", 3, 2, None),
        (f"{news}Weather", 1, 1, None),
    ]
