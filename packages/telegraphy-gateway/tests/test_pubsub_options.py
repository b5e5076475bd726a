"""Publish options through a real gateway: subscriber black- and whitelisting, publisher
exclusion and identification, and how subscriptions are shared and ended."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from autobahn.wamp.types import PublishOptions, SubscribeOptions

import wamp_peers
from conftest import BACKEND_ID
from gateway_harness import Client, Inbox
from raw_wamp import PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED
from wamp_peers import REPORTING_ID, REPORTING_ROLE, Peers

gateway = wamp_peers.gateway  # one gateway process for the whole module
peers = wamp_peers.peers

TOPIC = "telegraphy.public.lists"
MARKER = "telegraphy.public.marker"


class Audience:
    """Named subscribers of one topic. After each publication a marker is sent to everyone:
    events arrive in order, so what a subscriber got before the marker is all it will get."""

    def __init__(self, publisher: Client) -> None:
        self.publisher = publisher
        self.inboxes: dict[str, Inbox] = {}
        self.ids: dict[str, int] = {}

    async def add(self, name: str, session: Client) -> None:
        inbox = self.inboxes[name] = Inbox()
        self.ids[name] = session.session_id
        await session.subscribe(lambda *a: inbox(*a), TOPIC)
        await session.subscribe(lambda: inbox("marker"), MARKER)

    async def receivers(self, **options: Any) -> set[str]:
        """Who receives a publication to TOPIC made with `options`."""
        ack = PublishOptions(acknowledge=True, **options)
        await self.publisher.publish(TOPIC, "event", options=ack)
        marker = PublishOptions(acknowledge=True, exclude_me=False)
        await self.publisher.publish(MARKER, options=marker)
        return {name for name, inbox in self.inboxes.items() if await _before_marker(inbox)}


async def _before_marker(inbox: Inbox) -> bool:
    got = False
    while (await inbox.next())[0] != ("marker",):
        got = True
    return got


async def audience(peers: Peers) -> Audience:
    publisher = await peers.backend()
    group = Audience(publisher)
    await group.add("publisher", publisher)
    await group.add("backend", await peers.backend("msgpack"))
    await group.add("other-backend", await peers.backend())
    await group.add("reporting", await peers.reporting())
    await group.add("anonymous", await peers.anonymous())
    return group


@pytest_twisted.ensureDeferred
async def test_blacklists_exclude_by_session_authid_and_authrole(peers: Peers) -> None:
    group = await audience(peers)
    everyone_else = {"backend", "other-backend", "reporting", "anonymous"}

    assert await group.receivers() == everyone_else
    assert await group.receivers(exclude=[group.ids["backend"]]) == everyone_else - {"backend"}
    assert await group.receivers(exclude_authid=[REPORTING_ID]) == everyone_else - {"reporting"}
    assert await group.receivers(exclude_authrole=["anonymous", REPORTING_ROLE]) == {
        "backend",
        "other-backend",
    }


@pytest_twisted.ensureDeferred
async def test_whitelists_limit_receivers_and_blacklists_win(peers: Peers) -> None:
    group = await audience(peers)
    ids = group.ids

    assert await group.receivers(eligible=[ids["backend"], ids["anonymous"]]) == {
        "backend",
        "anonymous",
    }
    assert await group.receivers(eligible_authid=[BACKEND_ID]) == {"backend", "other-backend"}
    assert await group.receivers(eligible_authrole=[REPORTING_ROLE]) == {"reporting"}
    both = {"eligible": [ids["backend"], ids["reporting"]], "exclude_authrole": [REPORTING_ROLE]}
    assert await group.receivers(**both) == {"backend"}
    assert await group.receivers(eligible=[]) == set()


@pytest_twisted.ensureDeferred
async def test_publisher_is_excluded_unless_it_opts_in(peers: Peers) -> None:
    group = await audience(peers)
    me = group.ids["publisher"]

    assert "publisher" not in await group.receivers()
    assert "publisher" in await group.receivers(exclude_me=False)
    assert await group.receivers(exclude_me=False, eligible=[me]) == {"publisher"}
    assert await group.receivers(exclude_me=False, exclude=[me]) == {
        "backend",
        "other-backend",
        "reporting",
        "anonymous",
    }


@pytest_twisted.ensureDeferred
async def test_publisher_is_disclosed_only_when_it_asks(peers: Peers) -> None:
    # autobahn 26 no longer sends PUBLISH.Options.disclose_me: the publisher is written by hand.
    subscriber, publisher = await peers.backend(), await peers.raw()
    inbox = Inbox()
    await subscriber.subscribe(
        inbox, "app.identified", options=SubscribeOptions(details_arg="details")
    )

    for request, disclose in ((1, True), (2, False)):
        options = {"acknowledge": True, "disclose_me": disclose}
        answer = await publisher.request(PUBLISH, request, options, "app.identified", [request])
        assert answer[:2] == [PUBLISHED, request]
        args, kwargs = await inbox.next()
        details = kwargs["details"]
        identity = (details.publisher, details.publisher_authid, details.publisher_authrole)
        assert args == (request,)
        assert identity == ((publisher.id, BACKEND_ID, "backend") if disclose else (None,) * 3)


@pytest_twisted.ensureDeferred
async def test_sessions_on_one_topic_share_one_subscription(peers: Peers) -> None:
    first, second, raw = await peers.backend(), await peers.backend("msgpack"), await peers.raw()
    inbox = Inbox()
    ids = {(await first.subscribe(inbox, "app.shared")).id for _ in range(2)}
    ids.add((await second.subscribe(inbox, "app.shared")).id)
    for request in (1, 2):  # twice from one session, seen on the wire
        answer = await raw.request(SUBSCRIBE, request, {}, "app.shared")
        assert answer[:2] == [SUBSCRIBED, request]
        ids.add(answer[2])
    assert len(ids) == 1
    pattern = await first.subscribe(inbox, "app.shared", options=SubscribeOptions(match="prefix"))
    assert pattern.id not in ids


@pytest_twisted.ensureDeferred
async def test_unsubscribe_stops_delivery_to_that_session_only(peers: Peers) -> None:
    publisher, staying, leaving = [await peers.backend() for _ in range(3)]
    kept, dropped, markers = Inbox(), Inbox(), Inbox()
    await staying.subscribe(kept, "app.unsub")
    subscription = await leaving.subscribe(dropped, "app.unsub")
    await leaving.subscribe(markers, "app.unsub.marker")

    await subscription.unsubscribe()
    await publisher.publish("app.unsub", 1, options=PublishOptions(acknowledge=True))
    await publisher.publish("app.unsub.marker", options=PublishOptions(acknowledge=True))

    assert await kept.next() == ((1,), {})
    await markers.next()
    assert dropped.pending == 0
