"""Publish and subscribe through a real gateway with real autobahn clients."""

from __future__ import annotations

import pytest_twisted
from autobahn.wamp.types import PublishOptions, SubscribeOptions

from conftest import BACKEND_ID, BACKEND_SECRET
from gateway_harness import GatewayProcess, Inbox, join


async def backend(gateway: GatewayProcess, serializer: str = "json"):  # type: ignore[no-untyped-def]
    return await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET, serializer=serializer)


@pytest_twisted.ensureDeferred
async def test_event_reaches_subscribers_of_both_serializers(gateway: GatewayProcess) -> None:
    publisher = await backend(gateway)
    json_sub, msgpack_sub = await backend(gateway), await backend(gateway, "msgpack")
    inboxes = [Inbox(), Inbox()]
    await json_sub.subscribe(inboxes[0], "app.orders")
    await msgpack_sub.subscribe(inboxes[1], "app.orders")

    await publisher.publish(
        "app.orders", 1, "two", total=3.5, options=PublishOptions(acknowledge=True)
    )

    for inbox in inboxes:
        args, kwargs = await inbox.next()
        assert args == (1, "two") and kwargs == {"total": 3.5}


@pytest_twisted.ensureDeferred
async def test_publisher_is_excluded_unless_it_asks(gateway: GatewayProcess) -> None:
    session = await backend(gateway)
    inbox = Inbox()
    await session.subscribe(inbox, "app.echo")

    await session.publish("app.echo", "skipped", options=PublishOptions(acknowledge=True))
    await session.publish(
        "app.echo", "kept", options=PublishOptions(acknowledge=True, exclude_me=False)
    )

    args, _ = await inbox.next()
    assert args == ("kept",)


@pytest_twisted.ensureDeferred
async def test_prefix_and_wildcard_subscriptions_get_the_topic(gateway: GatewayProcess) -> None:
    publisher, subscriber = await backend(gateway), await backend(gateway)
    prefix, wildcard = Inbox(), Inbox()
    await subscriber.subscribe(
        prefix, "app.shop", options=SubscribeOptions(match="prefix", details_arg="details")
    )
    await subscriber.subscribe(
        wildcard, "app..created", options=SubscribeOptions(match="wildcard", details_arg="details")
    )

    await publisher.publish("app.shop.order", 1, options=PublishOptions(acknowledge=True))
    await publisher.publish("app.user.created", 2, options=PublishOptions(acknowledge=True))

    args, kwargs = await prefix.next()
    assert args == (1,) and kwargs["details"].topic == "app.shop.order"
    args, kwargs = await wildcard.next()
    assert args == (2,) and kwargs["details"].topic == "app.user.created"
    assert prefix.pending == 0 and wildcard.pending == 0
