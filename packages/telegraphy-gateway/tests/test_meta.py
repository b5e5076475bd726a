"""The session and subscription meta API through a real gateway: the features WELCOME announces,
the wamp.session.* and wamp.subscription.* procedures, and the meta events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import SubscribeOptions

import wamp_peers
from gateway_harness import Client, Inbox, left
from raw_wamp import SUBSCRIBE
from wamp_peers import REPORTING_ID, REPORTING_ROLE, Peers

gateway = wamp_peers.gateway  # one gateway process for the whole module
peers = wamp_peers.peers

BROKER_FEATURES = {
    "publisher_identification",
    "pattern_based_subscription",
    "session_meta_api",
    "subscription_meta_api",
    "subscriber_blackwhite_listing",
    "publisher_exclusion",
}
DEALER_FEATURES = {
    "caller_identification",
    "pattern_based_registration",
    "session_meta_api",
    "shared_registration",
    "call_canceling",
    "progressive_call_results",
}


async def meta_error(session: Client, procedure: str, *args: Any) -> str:
    with pytest.raises(ApplicationError) as caught:
        await session.call(procedure, *args)
    return caught.value.error


@pytest_twisted.ensureDeferred
async def test_welcome_announces_exactly_the_implemented_features(peers: Peers) -> None:
    raw = await peers.raw()
    assert raw.details["roles"] == {
        "broker": {"features": dict.fromkeys(BROKER_FEATURES, True)},
        "dealer": {"features": dict.fromkeys(DEALER_FEATURES, True)},
    }
    anonymous = await peers.anonymous("msgpack")
    announced = {
        role: {name for name, on in vars(features).items() if on}
        for role, features in anonymous._router_roles.items()
    }
    assert announced == {"broker": BROKER_FEATURES, "dealer": DEALER_FEATURES}


@pytest_twisted.ensureDeferred
async def test_session_count_list_and_get(peers: Peers) -> None:
    caller, backend = await peers.backend(), await peers.backend("msgpack")
    reporting, anonymous = await peers.reporting(), await peers.anonymous()
    ids = {
        "caller": caller.session_id,
        "backend": backend.session_id,
        "reporting": reporting.session_id,
        "anonymous": anonymous.session_id,
    }

    assert await caller.call("wamp.session.count") == 4
    assert set(await caller.call("wamp.session.list")) == set(ids.values())
    roles = [REPORTING_ROLE, "anonymous"]
    assert await caller.call("wamp.session.count", roles) == 2
    assert set(await caller.call("wamp.session.list", roles)) == {
        ids["reporting"],
        ids["anonymous"],
    }
    assert await caller.call("wamp.session.count", ["nobody"]) == 0
    backends = await caller.call("wamp.session.list", filter_authroles=["backend"])
    assert set(backends) == {ids["caller"], ids["backend"]}

    details = await caller.call("wamp.session.get", ids["reporting"])
    assert isinstance(details.pop("transport"), dict)
    assert details == {
        "session": ids["reporting"],
        "authid": REPORTING_ID,
        "authrole": REPORTING_ROLE,
        "authmethod": "wampcra",
        "authprovider": "static",
    }
    anonymous_details = await caller.call("wamp.session.get", ids["anonymous"])
    assert anonymous_details["authmethod"] == "anonymous"
    assert anonymous_details["authrole"] == "anonymous"


@pytest_twisted.ensureDeferred
async def test_session_procedures_refuse_unknown_ids_and_wrong_arguments(peers: Peers) -> None:
    caller = await peers.backend()
    assert await meta_error(caller, "wamp.session.get", 1) == "wamp.error.no_such_session"
    for procedure, args in [
        ("wamp.session.get", ()),
        ("wamp.session.get", ("not-an-id",)),
        ("wamp.session.get", (1, 2)),
        ("wamp.session.count", ("backend",)),
        ("wamp.session.list", (["backend"], "extra")),
    ]:
        assert await meta_error(caller, procedure, *args) == "wamp.error.invalid_argument"


async def subscriptions(peers: Peers) -> tuple[Client, dict[str, int], set[int]]:
    """Two sessions on one exact topic, and a prefix and a wildcard subscription over it."""
    first, second = await peers.backend(), await peers.backend()
    inbox = Inbox()
    ids = {
        "exact": (await first.subscribe(inbox, "app.meta.topic")).id,
        "prefix": (
            await first.subscribe(inbox, "app.meta", options=SubscribeOptions(match="prefix"))
        ).id,
        "wildcard": (
            await second.subscribe(inbox, "app..topic", options=SubscribeOptions(match="wildcard"))
        ).id,
    }
    await second.subscribe(inbox, "app.meta.topic")
    return first, ids, {first.session_id, second.session_id}


@pytest_twisted.ensureDeferred
async def test_subscription_list_lookup_and_match(peers: Peers) -> None:
    caller, ids, _ = await subscriptions(peers)

    assert await caller.call("wamp.subscription.list") == {
        match: [subscription] for match, subscription in ids.items()
    }
    lookup = "wamp.subscription.lookup"
    assert await caller.call(lookup, "app.meta.topic") == ids["exact"]
    assert await caller.call(lookup, "app.meta.topic", {"match": "exact"}) == ids["exact"]
    assert await caller.call(lookup, "app.meta", {"match": "prefix"}) == ids["prefix"]
    assert await caller.call(lookup, "app..topic", {"match": "wildcard"}) == ids["wildcard"]
    assert await caller.call(lookup, "app.meta") is None
    assert await caller.call(lookup, "app.meta.topic", {"match": "prefix"}) is None

    matched = await caller.call("wamp.subscription.match", "app.meta.topic")
    assert sorted(matched) == sorted(ids.values())
    assert await caller.call("wamp.subscription.match", "app.meta.other") == [ids["prefix"]]
    assert await caller.call("wamp.subscription.match", "elsewhere") is None


@pytest_twisted.ensureDeferred
async def test_subscription_get_and_subscribers(peers: Peers) -> None:
    caller, ids, sessions = await subscriptions(peers)

    details = await caller.call("wamp.subscription.get", ids["exact"])
    created = details.pop("created")
    assert details == {"id": ids["exact"], "uri": "app.meta.topic", "match": "exact"}
    assert datetime.fromisoformat(created.replace("Z", "+00:00")).tzinfo is not None
    prefix = await caller.call("wamp.subscription.get", ids["prefix"])
    assert (prefix["uri"], prefix["match"]) == ("app.meta", "prefix")

    exact = ids["exact"]
    subscribers = await caller.call("wamp.subscription.list_subscribers", exact)
    assert set(subscribers) == sessions
    assert await caller.call("wamp.subscription.count_subscribers", exact) == 2
    assert await caller.call("wamp.subscription.count_subscribers", ids["prefix"]) == 1


@pytest_twisted.ensureDeferred
async def test_subscription_procedures_refuse_unknown_ids_and_wrong_arguments(
    peers: Peers,
) -> None:
    caller, ids, _ = await subscriptions(peers)
    unknown = max(ids.values()) + 1
    for procedure in ("get", "list_subscribers", "count_subscribers"):
        uri = f"wamp.subscription.{procedure}"
        assert await meta_error(caller, uri, unknown) == "wamp.error.no_such_subscription"
        for args in [(), ("not-an-id",), (ids["exact"], "extra")]:
            assert await meta_error(caller, uri, *args) == "wamp.error.invalid_argument"
    for procedure, args in [
        ("wamp.subscription.lookup", ()),
        ("wamp.subscription.lookup", (1,)),
        ("wamp.subscription.lookup", ("app.meta", {"match": "fuzzy"})),
        ("wamp.subscription.lookup", ("app.meta", "prefix")),
        ("wamp.subscription.match", ()),
        ("wamp.subscription.match", (["app.meta"],)),
        ("wamp.subscription.list", ("exact",)),
    ]:
        assert await meta_error(caller, procedure, *args) == "wamp.error.invalid_argument"


class Watcher:
    """Records meta events as (topic suffix, args), ignoring those about the watcher itself."""

    def __init__(self, session: Client) -> None:
        self.session = session
        self.events = Inbox()

    async def watch(self, *topics: str) -> None:
        for topic in topics:
            await self.session.subscribe(
                lambda *args, name=topic: self._record(name, args), f"wamp.{topic}"
            )

    def _record(self, name: str, args: tuple[Any, ...]) -> None:
        about = args[0]["session"] if isinstance(args[0], dict) else args[0]
        if about != self.session.session_id:
            self.events(name, *args)

    async def next(self) -> tuple[Any, ...]:
        args, _ = await self.events.next()
        return args


@pytest_twisted.ensureDeferred
async def test_session_meta_events(peers: Peers) -> None:
    watcher = Watcher(await peers.backend())
    await watcher.watch("session.on_join", "session.on_leave")

    for joining, authid, authrole, authmethod in [
        (peers.reporting, REPORTING_ID, REPORTING_ROLE, "wampcra"),
        (peers.anonymous, None, "anonymous", "anonymous"),
    ]:
        session = await joining()
        me = session.session_id
        name, details = await watcher.next()
        assert isinstance(details.pop("transport"), dict)
        assert name == "session.on_join"
        assert details == {
            "session": me,
            "authid": authid or f"anonymous-{me}",
            "authrole": authrole,
            "authmethod": authmethod,
            "authprovider": "static",
        }
        session.leave()
        await left(session)
        assert await watcher.next() == ("session.on_leave", me, details["authid"], authrole)


@pytest_twisted.ensureDeferred
async def test_subscription_meta_events(peers: Peers) -> None:
    watcher = Watcher(await peers.backend())
    topics = ("on_create", "on_subscribe", "on_unsubscribe", "on_delete")
    await watcher.watch(*(f"subscription.{t}" for t in topics))
    first, second = await peers.backend(), await peers.backend("msgpack")
    one, two = first.session_id, second.session_id

    subscription = await first.subscribe(Inbox(), "app.watched")
    sid = subscription.id
    name, session, details = await watcher.next()
    assert (name, session) == ("subscription.on_create", one)
    assert details.pop("created")
    assert details == {"id": sid, "uri": "app.watched", "match": "exact"}
    assert await watcher.next() == ("subscription.on_subscribe", one, sid)

    await second.subscribe(Inbox(), "app.watched")
    assert await watcher.next() == ("subscription.on_subscribe", two, sid)
    await first.subscribe(Inbox(), "app.watched")  # already subscribed: no event
    await subscription.unsubscribe()  # another handler of `first` remains: no UNSUBSCRIBE
    second.leave()
    await left(second)
    assert await watcher.next() == ("subscription.on_unsubscribe", two, sid)
    first.leave()
    await left(first)
    assert await watcher.next() == ("subscription.on_unsubscribe", one, sid)
    assert await watcher.next() == ("subscription.on_delete", one, sid)
    assert watcher.events.pending == 0


@pytest_twisted.ensureDeferred
async def test_a_leaving_session_gets_no_meta_events_after_goodbye(peers: Peers) -> None:
    raw = await peers.raw()
    for request, topic in enumerate(
        ["wamp.subscription.on_unsubscribe", "wamp.subscription.on_delete"]
    ):
        await raw.request(SUBSCRIBE, request + 1, {}, topic)
    await raw.leave()
    assert not raw.unread
