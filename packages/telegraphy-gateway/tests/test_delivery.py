"""Delivery guarantees through a real gateway: subscribers cut off while events flow recover
every event exactly once and in order; the ingress publishes an event id once; a replay never
carries what the session may no longer subscribe to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_twisted
from autobahn.wamp.types import PublishOptions, SubscribeOptions
from ingress_posts import event, post
from recovering_subscriber import RecoveringSubscriber
from tcp_proxy import TcpProxy
from ticket_peers import EVENTS, NOT_AUTHORIZED, ticket_join, token, token_config
from twisted.internet import defer, reactor, task

from conftest import BACKEND_ID, BACKEND_SECRET, module_gateway, start_gateway
from gateway_harness import Client, GatewayProcess, Inbox, eventually, join, left
from raw_wamp import ERROR, EVENT, SUBSCRIBE, SUBSCRIBED, WampPeer

HISTORY = 5000
gateway = module_gateway(token_config("[history]", f"size = {HISTORY}", f"max_recover = {HISTORY}"))
ACK = PublishOptions(acknowledge=True)
FLOW = "app.flow."
# Topics of this module's replay test only: nothing was published on them before it.
REFUND, CREDIT = f"{EVENTS}.shop.Refund", f"{EVENTS}.shop.Credit"


async def backend(gateway: GatewayProcess) -> Client:
    return await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)


# -- connections cut while events flow ------------------------------------------------------


class Flow:
    """A backend publishing 0, 1, 2, ... alternately on app.flow.a and app.flow.b, each
    acknowledged before the next, until stopped."""

    def __init__(self, session: Client) -> None:
        self.session = session
        self.published = 0
        self.stopping = False
        self.done = defer.ensureDeferred(self._run())

    @staticmethod
    def topic(n: int) -> str:
        return f"{FLOW}{'ab'[n % 2]}"

    async def _run(self) -> None:
        while not self.stopping:
            await self.session.publish(self.topic(self.published), self.published, options=ACK)
            self.published += 1
            # A steady rate, so that a cut of a given number of events lasts seconds.
            await task.deferLater(reactor, 0.004, lambda: None)

    async def stop(self) -> int:
        self.stopping = True
        await self.done
        return self.published


async def seen_beyond(subscribers: list[RecoveringSubscriber], n: int) -> None:
    """Wait until every subscriber has seen an event numbered `n` or more."""
    await eventually(lambda: all(s.read() and s.seen[-1][1] >= n for s in subscribers))


@pytest_twisted.ensureDeferred
async def test_subscribers_cut_off_while_events_flow_get_each_once_in_order(
    gateway: GatewayProcess,
) -> None:
    proxy = TcpProxy(gateway.port).start()
    exact = RecoveringSubscriber(f"{FLOW}a")
    prefix = RecoveringSubscriber(FLOW, match="prefix")
    subscribers = [exact, prefix]
    for subscriber in subscribers:
        await subscriber.connect(proxy.url)
    flow = Flow(await backend(gateway))
    try:
        await seen_beyond(subscribers, 20)

        await proxy.cut()
        await eventually(lambda: all(s.closed for s in subscribers))
        cut_at, cut_time = flow.published, reactor.seconds()
        # Two seconds, and hundreds of events, published while no subscriber is connected.
        await eventually(
            lambda: flow.published >= cut_at + 300 and reactor.seconds() >= cut_time + 2,
            seconds=20,
        )
        proxy.start()
        for subscriber in subscribers:
            await subscriber.connect(proxy.url)
        await seen_beyond(subscribers, flow.published + 20)
        published = await flow.stop()
        await eventually(
            lambda: exact.read() == (published + 1) // 2 and prefix.read() == published
        )
        await exact.peer.leave()  # type: ignore[union-attr]
        await prefix.peer.leave()  # type: ignore[union-attr]
    finally:
        await proxy.stop()
        flow.stopping = True

    assert exact.values(f"{FLOW}a") == list(range(0, published, 2))
    assert prefix.values(f"{FLOW}a") == list(range(0, published, 2))
    assert prefix.values(f"{FLOW}b") == list(range(1, published, 2))
    for subscriber, topics in ((exact, ["a"]), (prefix, ["a", "b"])):
        # What the cut lost was replayed from history, then reported without a gap.
        assert subscriber.recovered > 0
        (report,) = subscriber.reports
        assert [(r["topic"], r["gap"]) for r in report] == [(f"{FLOW}{t}", None) for t in topics]
        assert sum(r["recovered"] for r in report) == subscriber.recovered
    flow.session.leave()
    await left(flow.session)


# -- ingress idempotency --------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_the_same_event_posted_twice_is_published_once(gateway: GatewayProcess) -> None:
    await posted_twice_is_published_once(gateway)


@pytest_twisted.ensureDeferred
async def test_the_memory_engine_publishes_an_event_posted_twice_once(tmp_path: Path) -> None:
    memory = start_gateway(tmp_path, token_config("[engine]", 'kind = "memory"'))
    try:
        await posted_twice_is_published_once(memory)
    finally:
        memory.stop()
    assert not (tmp_path / "telegraphy-gateway.sqlite3").exists()


async def posted_twice_is_published_once(gateway: GatewayProcess) -> None:
    session = await backend(gateway)
    inbox = Inbox()
    await session.subscribe(inbox, f"{EVENTS}.", options=SubscribeOptions(match="prefix"))
    sent, other, twin = event(1), event(2), event(3)

    first = post(gateway.port, "/ingress/event", sent)[:2]
    again = post(gateway.port, "/ingress/event", sent)[:2]
    batch = post(gateway.port, "/ingress/events", {"events": [sent, other]})[:2]
    twins = post(gateway.port, "/ingress/events", {"events": [twin, twin]})[:2]

    assert first[0] == again[0] == batch[0] == twins[0] == 200
    position = first[1]["positions"][0]
    assert first[1] == {
        "published": 1,
        "duplicates": 0,
        "ids": [sent["meta"]["id"]],
        "positions": [position],
    }
    assert again[1] == {**first[1], "published": 0, "duplicates": 1}
    assert (batch[1]["published"], batch[1]["duplicates"]) == (1, 1)
    assert batch[1]["positions"][0] == position
    assert batch[1]["positions"][1]["offset"] == position["offset"] + 1
    # Twice in one batch: the second waits for the first to be kept, and shares its position.
    assert (twins[1]["published"], twins[1]["duplicates"]) == (1, 1)
    assert twins[1]["positions"][0] == twins[1]["positions"][1]
    # Subscribers got each event once: the marker published last comes right after them.
    assert post(gateway.port, "/ingress/event", event(0, name="test.marker"))[0] == 200
    received = [(await inbox.next())[0][0]["meta"]["id"] for _ in range(4)]
    assert received[:3] == [e["meta"]["id"] for e in (sent, other, twin)]
    assert received[3].startswith("order-0-")
    assert inbox.pending == 0
    session.leave()
    await left(session)


# -- replay and authorization ---------------------------------------------------------------


async def subscribe(peer: WampPeer, topic: str, request: int, **options: Any) -> int:
    answer = await peer.request(SUBSCRIBE, request, options, topic)
    assert answer[0] == SUBSCRIBED, answer
    subscription: int = answer[2]
    return subscription


@pytest_twisted.ensureDeferred
async def test_a_replay_carries_nothing_the_resumed_session_may_not_subscribe_to(
    gateway: GatewayProcess,
) -> None:
    publisher = await backend(gateway)
    first = await ticket_join(gateway.url, token("42", events=("shop.Refund", "shop.Credit")))
    await subscribe(first, REFUND, 1, persistent=True)
    await subscribe(first, CREDIT, 2, persistent=True)
    client_id = first.details["authextra"]["client_id"]
    await first.leave()
    for topic, value in [(REFUND, "o1"), (CREDIT, "i1"), (REFUND, "o2"), (CREDIT, "i2")]:
        await publisher.publish(topic, value, options=ACK)

    # A fresh token that no longer grants credits; the client also asks to recover them.
    extra = {"positions": {CREDIT: {"offset": 0, "epoch": ""}}}
    second = await ticket_join(
        gateway.url, token("42", events=("shop.Refund",)), previous=client_id, recover=extra
    )

    restored = second.details["authextra"]["subscriptions"]
    assert [(s["topic"], s.get("persistent")) for s in restored] == [(REFUND, True)]
    order = restored[0]["id"]
    replay = [await second.expect(EVENT) for _ in range(3)]
    assert [(m[1], m[4], m[3].get("recovered")) for m in replay[:2]] == [
        (order, ["o1"], True),
        (order, ["o2"], True),
    ]
    assert [(r["topic"], r["recovered"], r["gap"]) for r in replay[2][3]["recovery"]] == [
        (REFUND, 2, None)
    ]
    await publisher.publish(CREDIT, "i3", options=ACK)
    await publisher.publish(REFUND, "marker", options=ACK)
    assert (await second.expect(EVENT))[4] == ["marker"]
    denied = await second.request(SUBSCRIBE, 3, {}, CREDIT)
    assert denied[0] == ERROR and denied[4] == NOT_AUTHORIZED
    await second.leave()
    publisher.leave()
    await left(publisher)
