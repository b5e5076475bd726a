"""Authentication and authorization through a real gateway: WAMP-CRA backends, anonymous
browsers, and what each may do."""

from __future__ import annotations

import json
from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, SubscribeOptions

import wamp_peers
from conftest import BACKEND_ID, BACKEND_SECRET
from gateway_harness import Inbox, JoinFailed, join
from raw_wamp import CHALLENGE, WampPeer
from wamp_peers import REPORTING_ID, REPORTING_ROLE, REPORTING_SECRET, Peers

gateway = wamp_peers.gateway  # one gateway process for the whole module
peers = wamp_peers.peers

DENIED = "wamp.error.authentication_denied"
NOT_AUTHORIZED = "wamp.error.not_authorized"
ACK = PublishOptions(acknowledge=True)


async def refused(request: Any) -> str:
    with pytest.raises(ApplicationError) as caught:
        await request
    return caught.value.error


async def join_failure(url: str, authid: str, secret: str) -> JoinFailed:
    with pytest.raises(JoinFailed) as caught:
        await join(url, authid=authid, secret=secret)
    return caught.value


@pytest_twisted.ensureDeferred
async def test_backends_join_with_wampcra_and_their_configured_role(peers: Peers) -> None:
    for session, authid, authrole in [
        (await peers.backend(), BACKEND_ID, "backend"),
        (await peers.backend("msgpack"), BACKEND_ID, "backend"),
        (await peers.reporting(), REPORTING_ID, REPORTING_ROLE),
    ]:
        assert (session.authid, session.authrole) == (authid, authrole)
        assert (session.authmethod, session.authprovider) == ("wampcra", "static")


@pytest_twisted.ensureDeferred
async def test_wrong_secret_and_unknown_authid_are_denied_alike(peers: Peers) -> None:
    wrong_secret = await join_failure(peers.url, BACKEND_ID, "not-the-secret-0123456789")
    other_secret = await join_failure(peers.url, BACKEND_ID, REPORTING_SECRET)
    unknown = await join_failure(peers.url, "nobody", BACKEND_SECRET)
    assert wrong_secret.reason == other_secret.reason == unknown.reason == DENIED
    assert wrong_secret.message == other_secret.message == unknown.message

    # The challenge itself does not tell an unknown authid from a known one either.
    # A backend with its own role is challenged exactly like a stranger: the role is not told.
    reporting = await challenge(peers.url, REPORTING_ID)
    stranger = await challenge(peers.url, "nobody")
    for extra in (reporting, stranger):
        assert {k: v for k, v in extra.items() if k not in ("nonce", "session", "timestamp")} == {
            "authid": extra["authid"],
            "authmethod": "wampcra",
            "authprovider": "static",
        }


async def challenge(url: str, authid: str) -> dict[str, Any]:
    """The WAMP-CRA challenge the gateway sends to `authid` (the peer then hangs up)."""
    peer = await WampPeer.connect(url)
    message = await peer.hello(["wampcra"], authid)
    peer.raw.protocol.sendClose()
    await peer.closed()
    assert message[:2] == [CHALLENGE, "wampcra"]
    extra: dict[str, Any] = json.loads(message[2]["challenge"])
    return extra


@pytest_twisted.ensureDeferred
async def test_anonymous_reads_public_topics_published_by_a_backend(peers: Peers) -> None:
    backend, anonymous = await peers.backend(), await peers.anonymous("msgpack")
    assert anonymous.authrole == "anonymous" and anonymous.authmethod == "anonymous"
    assert anonymous.authid == f"anonymous-{anonymous.session_id}"

    news, live, sports = Inbox(), Inbox(), Inbox()
    await anonymous.subscribe(news, "telegraphy.public.news")
    await anonymous.subscribe(live, "telegraphy.public.sports.live")
    await anonymous.subscribe(
        sports, "telegraphy.public.sports", options=SubscribeOptions(match="prefix")
    )
    await backend.publish("telegraphy.public.news", "headline", options=ACK)
    await backend.publish("telegraphy.public.sports.live", 3, 1, options=ACK)

    assert await news.next() == (("headline",), {})
    assert await live.next() == ((3, 1), {})
    assert await sports.next() == ((3, 1), {})


@pytest_twisted.ensureDeferred
async def test_anonymous_may_do_nothing_else(peers: Peers) -> None:
    backend, anonymous = await peers.backend(), await peers.anonymous()
    await backend.register(lambda: "secret", "app.private.proc")
    requests = [
        anonymous.publish("telegraphy.public.news", "forged", options=ACK),
        anonymous.publish("app.private", options=ACK),
        anonymous.call("app.private.proc"),
        anonymous.call("wamp.session.count"),
        anonymous.call("wamp.subscription.list"),
        anonymous.register(lambda: None, "app.anonymous.proc"),
        anonymous.subscribe(Inbox(), "app.private"),
        anonymous.subscribe(Inbox(), "wamp.session.on_join"),
        # Patterns that would reach beyond the public topics.
        anonymous.subscribe(Inbox(), "telegraphy.public", SubscribeOptions(match="prefix")),
        anonymous.subscribe(Inbox(), "telegraphy..news", SubscribeOptions(match="wildcard")),
    ]
    for request in requests:
        assert await refused(request) == NOT_AUTHORIZED
    assert anonymous.is_attached()


@pytest_twisted.ensureDeferred
async def test_a_backend_may_do_everything(peers: Peers) -> None:
    backend, other = await peers.backend(), await peers.reporting()
    inbox = Inbox()
    await other.register(lambda x: x * 2, "app.double")
    await backend.subscribe(inbox, "app.anything", SubscribeOptions(match="prefix"))
    await other.subscribe(Inbox(), "wamp.session.on_leave")
    await other.publish("app.anything.at.all", "event", options=ACK)

    assert await backend.call("app.double", 21) == 42
    assert await inbox.next() == (("event",), {})
    assert await backend.call("wamp.session.count", ["backend", REPORTING_ROLE]) == 2
    assert await backend.call("wamp.subscription.match", "app.anything.x") is not None
