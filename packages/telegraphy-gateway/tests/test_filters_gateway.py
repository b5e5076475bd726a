"""Filters through a real gateway: the `filter` SUBSCRIBE option, refusals that say what is
wrong, a token's filter that no client filter widens, filtered history, and a resumed client
that keeps its subscription's filter and recovers only what it lets through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_twisted
from autobahn.wamp.types import PublishOptions
from test_restart import Restartable
from ticket_peers import EVENTS, NOT_AUTHORIZED, SECRET, ticket_join, token_config

from conftest import BACKEND_ID, BACKEND_SECRET, module_gateway
from gateway_harness import Client, GatewayProcess, join
from raw_wamp import (
    CALL,
    ERROR,
    EVENT,
    RESULT,
    SUBSCRIBE,
    SUBSCRIBED,
    UNSUBSCRIBE,
    WampPeer,
)
from telegraphy.core import F, Grants, mint_token

gateway = module_gateway(token_config())
ACK = PublishOptions(acknowledge=True)
UNSUBSCRIBED = 35
ORDER = f"{EVENTS}.shop.Order"
INVALID = "wamp.error.invalid_argument"


def order(number: int, customer: int, status: str = "paid") -> dict[str, Any]:
    meta = {"event_type": "update", "timestamp": "2026-01-01T00:00:00Z", "id": str(number)}
    data = {"id": number, "status": status, "customer": {"id": customer}}
    return {"name": "shop.Order", "meta": meta, "data": data}


def customer_token(customer: int) -> str:
    grants = Grants(("shop.Order",), filters={"shop.Order": F(customer__id=customer)})
    return mint_token(SECRET, str(customer), grants)


async def backend(gateway: GatewayProcess) -> Client:
    return await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)


async def subscribe(peer: WampPeer, request: int, options: dict[str, Any]) -> int:
    answer = await peer.request(SUBSCRIBE, request, options, ORDER)
    assert answer[0] == SUBSCRIBED, answer
    subscription: int = answer[2]
    return subscription


async def orders(peer: WampPeer, count: int) -> list[int]:
    """The ids of the next `count` orders the peer receives."""
    received = []
    while len(received) < count:
        message = await peer.receive()
        assert message[0] == EVENT, message
        received.append(message[4][0]["data"]["id"])
    return received


async def publish(publisher: Client, *envelopes: dict[str, Any]) -> None:
    for envelope in envelopes:
        await publisher.publish(ORDER, envelope, options=ACK)


@pytest_twisted.ensureDeferred
async def test_a_bad_filter_is_refused_saying_what_is_wrong(gateway: GatewayProcess) -> None:
    peer = await ticket_join(gateway.url, customer_token(1))
    too_deep: dict[str, Any] = {"status": "paid"}
    for _ in range(9):
        too_deep = {"not": too_deep}
    cases = [
        ({"total__gtt": 3}, "unknown lookup 'gtt' (did you mean 'gt'?"),
        ({"status__in": "paid"}, "'status__in' needs a list of 1 to 256 values"),
        ({"total__gt": [1]}, "'total__gt' needs a number or a string, got a list"),
        ({"or": []}, "filter.or must be a non-empty list of filters"),
        (too_deep, "nests and/or/not deeper than 8 levels"),
        ("status=paid", "filter must be an object, got a string"),
        ({"a" * 2000: 1}, "not a field path"),
    ]
    for request, (bad, message) in enumerate(cases, 1):
        answer = await peer.request(SUBSCRIBE, request, {"filter": bad}, ORDER)
        assert answer[0] == ERROR and answer[4] == INVALID, answer
        assert message in answer[5][0], (bad, answer)
    await subscribe(peer, 99, {"filter": {"status": "paid"}})  # the session goes on
    await peer.leave()


@pytest_twisted.ensureDeferred
async def test_each_subscriber_sees_what_its_filter_and_token_let_through(
    gateway: GatewayProcess,
) -> None:
    publisher = await backend(gateway)
    ann = await ticket_join(gateway.url, customer_token(1))
    bob = await ticket_join(gateway.url, customer_token(2))
    await subscribe(ann, 1, {})
    await subscribe(bob, 1, {"filter": {"status": "paid"}})
    # A filter that tries to widen the token's: it can only narrow it.
    widened = await subscribe(bob, 2, {"filter": {"or": [{"customer__id": 1}, {"id__gte": 0}]}})

    await publish(publisher, order(1, 1), order(2, 2, "new"), order(3, 2), order(4, 1))

    assert await orders(ann, 2) == [1, 4]
    got = []
    while len(got) < 3:
        message = await bob.receive()
        got.append((message[1] == widened, message[4][0]["data"]["id"]))
    assert sorted(got) == [(False, 3), (True, 2), (True, 3)]
    # A pattern subscription could reach the filtered event around its filter: refused.
    answer = await ann.request(SUBSCRIBE, 3, {"match": "prefix"}, f"{EVENTS}.shop.")
    assert answer[0] == ERROR and answer[4] == NOT_AUTHORIZED, answer
    await ann.leave()
    await bob.leave()
    publisher.leave()


@pytest_twisted.ensureDeferred
async def test_history_goes_through_the_filters(gateway: GatewayProcess) -> None:
    publisher = await backend(gateway)
    await publish(publisher, order(11, 7), order(12, 8), order(13, 7, "new"))
    peer = await ticket_join(gateway.url, customer_token(7))

    answer = await peer.request(CALL, 1, {}, "telegraphy.history", [ORDER, 3])
    assert answer[0] == RESULT, answer
    assert [e["args"][0]["data"]["id"] for e in answer[3][0]["events"]] == [11, 13]
    kwargs = {"filter": {"status": "new"}}
    answer = await peer.request(CALL, 2, {}, "telegraphy.history", [ORDER, 3], kwargs)
    assert [e["args"][0]["data"]["id"] for e in answer[3][0]["events"]] == [13]
    answer = await peer.request(CALL, 3, {}, "telegraphy.history", [ORDER], {"filter": [1]})
    assert answer[0] == ERROR and answer[4] == INVALID, answer
    await peer.leave()
    publisher.leave()


@pytest_twisted.ensureDeferred
async def test_a_resumed_client_keeps_its_filter_and_recovers_through_it(
    gateway: GatewayProcess,
) -> None:
    publisher = await backend(gateway)
    own = {"status__in": ["paid", "shipped"]}
    first = await ticket_join(gateway.url, customer_token(5))
    await subscribe(first, 1, {"filter": own, "persistent": True})
    client_id = first.details["authextra"]["client_id"]
    await first.leave()
    await publish(publisher, order(21, 5, "new"), order(22, 6), order(23, 5, "shipped"))

    second = await ticket_join(gateway.url, "", previous=client_id)  # no new token

    (restored,) = second.details["authextra"]["subscriptions"]
    assert (restored["filter"], restored["persistent"]) == (own, True)
    assert await orders(second, 1) == [23]  # recovered: not 21 (new) nor 22 (customer 6)
    report = await second.receive()
    assert report[3]["recovery"][0]["recovered"] == 1, report
    await publish(publisher, order(24, 5, "new"), order(25, 5, "paid"))
    assert await orders(second, 1) == [25]
    await second.leave()
    publisher.leave()


@pytest_twisted.ensureDeferred
async def test_equal_filters_written_differently_are_one_subscription(
    gateway: GatewayProcess,
) -> None:
    first = await ticket_join(gateway.url, customer_token(9))
    short, long = {"status": "paid"}, {"data__status__exact": "paid"}
    assert await subscribe(first, 1, {"filter": short}) == await subscribe(
        first, 2, {"filter": long}
    )
    client_id = first.details["authextra"]["client_id"]
    await first.leave()

    second = await ticket_join(gateway.url, "", previous=client_id)

    restored = second.details["authextra"]["subscriptions"]
    assert [s["filter"] for s in restored] == [short, long]  # as each was asked for
    assert len({s["id"] for s in restored}) == 1
    answer = await second.request(UNSUBSCRIBE, 3, restored[0]["id"])
    assert answer[0] == UNSUBSCRIBED, answer
    client_id = second.details["authextra"]["client_id"]
    await second.leave()
    third = await ticket_join(gateway.url, "", previous=client_id)
    assert third.details["authextra"]["subscriptions"] == []  # one UNSUBSCRIBE ended both
    await third.leave()


@pytest_twisted.ensureDeferred
async def test_filters_outlive_a_gateway_restart(tmp_path: Path) -> None:
    gateway = Restartable(tmp_path, token_config())
    try:
        first = await ticket_join(gateway.url, customer_token(5))
        await subscribe(first, 1, {"filter": {"status": "paid"}, "persistent": True})
        client_id = first.details["authextra"]["client_id"]
        await first.leave()
        await gateway.restart()
        publisher = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        await publish(publisher, order(31, 5, "new"), order(32, 6), order(33, 5))

        # No new token: the grants, their filter and the subscription's come from the record.
        second = await ticket_join(gateway.url, "", previous=client_id)
        (restored,) = second.details["authextra"]["subscriptions"]
        assert restored["filter"] == {"status": "paid"}
        assert await orders(second, 1) == [33]
        await second.receive()  # the recovery report
        await publish(publisher, order(34, 6), order(35, 5))
        assert await orders(second, 1) == [35]
        await second.leave()
        publisher.leave()
    finally:
        gateway.stop()
