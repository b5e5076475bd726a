"""The router's own procedures: `telegraphy.subscriptions` (any session, its own
subscriptions) and `telegraphy.subscriptors` (backends only: who is subscribed to an event)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import SubscribeOptions
from ticket_peers import CHANNELS, EVENTS, NOT_AUTHORIZED, token, token_config

from conftest import BACKEND_ID, BACKEND_SECRET, module_gateway
from gateway_harness import Client, GatewayProcess, Inbox, join

gateway = module_gateway(token_config())
ORDER = f"{EVENTS}.shop.Order"


async def error_of(request: Any) -> str:
    with pytest.raises(ApplicationError) as caught:
        await request
    return caught.value.error


@pytest_twisted.ensureDeferred
async def test_every_session_lists_its_own_subscriptions(gateway: GatewayProcess) -> None:
    user = await join(gateway.url, ticket=token("42", events=("shop.Order",)))
    anonymous = await join(gateway.url)
    backend = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    order = await user.subscribe(Inbox(), ORDER)
    own = await user.subscribe(Inbox(), f"{CHANNELS}.user.42")
    news = await anonymous.subscribe(
        Inbox(), f"{EVENTS}.news.", options=SubscribeOptions(match="prefix")
    )

    mine = await user.call("telegraphy.subscriptions")
    theirs = await anonymous.call("telegraphy.subscriptions")

    assert sorted(mine, key=lambda s: s["topic"]) == [
        {"id": own.id, "topic": f"{CHANNELS}.user.42", "match": "exact"},
        {"id": order.id, "topic": ORDER, "match": "exact"},
    ]
    assert theirs == [{"id": news.id, "topic": f"{EVENTS}.news.", "match": "prefix"}]
    assert await backend.call("telegraphy.subscriptions") == []
    assert await error_of(user.call("telegraphy.subscriptions", "extra")) == (
        "wamp.error.invalid_argument"
    )
    for session in (user, anonymous, backend):
        session.leave()


@pytest_twisted.ensureDeferred
async def test_backends_see_who_is_subscribed_to_an_event(gateway: GatewayProcess) -> None:
    exact = await join(gateway.url, ticket=token("42", events=("shop.Order",)), authid="42")
    visitor = await join(gateway.url)
    backend: Client = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    await exact.subscribe(Inbox(), ORDER)
    await backend.subscribe(Inbox(), f"{EVENTS}.shop.", options=SubscribeOptions(match="prefix"))
    await visitor.subscribe(Inbox(), f"{EVENTS}.news.Headline")

    orders = await backend.call("telegraphy.subscriptors", "shop.Order")
    news = await backend.call("telegraphy.subscriptors", event_name="news.Headline")

    assert sorted(orders, key=lambda s: s["authid"]) == sorted(
        [
            {"session": exact.session_id, "authid": "42", "authrole": "user"},
            {"session": backend.session_id, "authid": BACKEND_ID, "authrole": "backend"},
        ],
        key=lambda s: s["authid"],
    )
    assert news == [
        {"session": visitor.session_id, "authid": visitor.welcome.authid, "authrole": "anonymous"}
    ]
    assert await backend.call("telegraphy.subscriptors", "nobody.Listens") == []
    for bad in ([], ["not an event name"], ["a", "b"]):
        assert await error_of(backend.call("telegraphy.subscriptors", *bad)) == (
            "wamp.error.invalid_argument"
        )
    # Browsers may not ask who else is listening, nor use the meta API.
    for session in (exact, visitor):
        assert await error_of(session.call("telegraphy.subscriptors", "shop.Order")) == (
            NOT_AUTHORIZED
        )
        assert await error_of(session.call("wamp.session.count")) == NOT_AUTHORIZED
    for session in (exact, visitor, backend):
        session.leave()
