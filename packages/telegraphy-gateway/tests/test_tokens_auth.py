"""Ticket authentication with tokens, and client identity: WELCOME's client id, resume with and
without a fresh token, single use, refusals with the exact ABORT message, through a real
gateway with raw WAMP sessions and autobahn clients."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest_twisted
from autobahn.wamp.types import PublishOptions
from ticket_peers import (
    CHANNELS,
    EVENTS,
    NOT_AUTHORIZED,
    Refused,
    refusal,
    ticket_join,
    token,
    token_config,
)
from twisted.internet import reactor, task

from conftest import BACKEND_ID, BACKEND_SECRET, module_gateway, start_gateway
from gateway_harness import Client, GatewayProcess, join
from raw_wamp import ABORT, ERROR, EVENT, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, WampPeer

CLIENT_TTL = 900
gateway = module_gateway(token_config())
ACK = PublishOptions(acknowledge=True)
ORDER = f"{EVENTS}.shop.Order"
OWN_42 = f"{CHANNELS}.user.42"


async def backend(gateway: GatewayProcess) -> Client:
    return await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)


async def subscribe(peer: WampPeer, topic: str, request: int, match: str = "exact") -> int:
    options = {} if match == "exact" else {"match": match}
    answer = await peer.request(SUBSCRIBE, request, options, topic)
    assert answer[0] == SUBSCRIBED, answer
    subscription: int = answer[2]
    return subscription


async def next_event(peer: WampPeer) -> list[Any]:
    message = await peer.receive()
    assert message[0] == EVENT, message
    return message


def authextra(peer: WampPeer) -> dict[str, Any]:
    extra: dict[str, Any] = peer.details["authextra"]
    return extra


# -- joining with a token -----------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_a_token_joins_as_its_user_with_a_client_id(gateway: GatewayProcess) -> None:
    before = time.time()
    session = await join(gateway.url, ticket=token("42"), authid="42")
    details = session.welcome
    assert (details.authid, details.authrole, details.authmethod) == ("42", "user", "ticket")
    extra = details.authextra
    assert set(extra) == {
        "client_id",
        "client_expires",
        "resumed",
        "subscriptions",
        "missed_events",
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", extra["client_id"])
    assert int(before) + CLIENT_TTL <= extra["client_expires"] <= time.time() + CLIENT_TTL
    assert (extra["resumed"], extra["subscriptions"], extra["missed_events"]) == (
        False,
        [],
        "unknown",
    )
    # A token without a user (a visitor the web app does not know) joins as anonymous.
    visitor = await ticket_join(gateway.url, token(None))
    assert visitor.details["authrole"] == "anonymous"
    assert visitor.details["authid"] == f"anonymous-{visitor.id}"
    assert visitor.details["authmethod"] == "ticket"
    session.leave()
    await visitor.leave()


@pytest_twisted.ensureDeferred
async def test_refusals_say_why(gateway: GatewayProcess) -> None:
    url = gateway.url
    expired = token("42", now=time.time() - 3600, ttl=60)
    future = token("42", now=time.time() + 3600)
    cases = [
        (token("42", secret="another-secret-0123456789"), {}, "invalid token"),
        ("tg1.not-a-token", {}, "invalid token"),
        ("tg1.é.ü", {}, "invalid token"),
        ("", {}, "invalid token"),
        (expired, {}, "token expired"),
        (future, {}, "token not yet valid: check the clocks"),
        (token("42"), {"authid": "43"}, "authid does not match the token"),
        (token(None), {"authid": "42"}, "authid does not match the token"),
        (token("42"), {"previous": "no-such-client-id"}, "unknown or expired previous_session"),
        ("", {"previous": "no-such-client-id"}, "unknown or expired previous_session"),
    ]
    for ticket, options, message in cases:
        assert await refusal(url, ticket, **options) == message, (ticket, options)


@pytest_twisted.ensureDeferred
async def test_a_token_is_used_once_even_after_reconnecting(gateway: GatewayProcess) -> None:
    ticket = token("42")
    # A refused attempt (wrong authid) does not spend the token...
    assert await refusal(gateway.url, ticket, authid="43") == "authid does not match the token"
    first = await ticket_join(gateway.url, ticket)
    # ...a welcomed one does, whether the session is still there or not, and whatever else
    # the second HELLO says.
    assert await refusal(gateway.url, ticket) == "token already used"
    client_id = authextra(first)["client_id"]
    await first.leave()
    assert await refusal(gateway.url, ticket) == "token already used"
    assert await refusal(gateway.url, ticket, previous=client_id) == "token already used"


# -- resuming a client ----------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_resume_with_a_fresh_token_restores_subscriptions(gateway: GatewayProcess) -> None:
    publisher = await backend(gateway)
    first = await ticket_join(gateway.url, token("42", events=("shop.Order",)))
    await subscribe(first, ORDER, 1)
    await subscribe(first, OWN_42, 2)
    await subscribe(first, f"{EVENTS}.news.", 3, match="prefix")
    dropped = await subscribe(first, f"{EVENTS}.news.Headline", 4)
    assert (await first.request(UNSUBSCRIBE, 5, dropped))[0] != ERROR
    client_id, expires = authextra(first)["client_id"], authextra(first)["client_expires"]
    await first.leave()

    second = await ticket_join(gateway.url, token("42", events=("shop.Order",)), previous=client_id)

    extra = authextra(second)
    assert (extra["client_id"], extra["resumed"], extra["missed_events"]) == (
        client_id,
        True,
        "unknown",
    )
    assert extra["client_expires"] >= expires
    restored = {(s["topic"], s["match"]): s["id"] for s in extra["subscriptions"]}
    assert set(restored) == {(ORDER, "exact"), (OWN_42, "exact"), (f"{EVENTS}.news.", "prefix")}
    # Events flow to the restored subscriptions at once: no SUBSCRIBE was sent.
    await publisher.publish(ORDER, "paid", options=ACK)
    await publisher.publish(OWN_42, "hello", options=ACK)
    assert (await next_event(second))[1::3] == [restored[(ORDER, "exact")], ["paid"]]
    assert (await next_event(second))[1::3] == [restored[(OWN_42, "exact")], ["hello"]]
    await second.leave()
    publisher.leave()


@pytest_twisted.ensureDeferred
async def test_resume_drops_what_the_fresh_token_no_longer_grants(
    gateway: GatewayProcess,
) -> None:
    first = await ticket_join(gateway.url, token("42", events=("shop.Order",)))
    await subscribe(first, ORDER, 1)
    await subscribe(first, OWN_42, 2)
    client_id = authextra(first)["client_id"]
    await first.leave()

    second = await ticket_join(gateway.url, token("42"), previous=client_id)

    assert [s["topic"] for s in authextra(second)["subscriptions"]] == [OWN_42]
    answer = await second.request(SUBSCRIBE, 1, {}, ORDER)
    assert answer[0] == ERROR and answer[4] == NOT_AUTHORIZED
    await second.leave()


@pytest_twisted.ensureDeferred
async def test_resume_without_a_token_keeps_user_grants_and_expiry(
    gateway: GatewayProcess,
) -> None:
    first = await ticket_join(gateway.url, token("42", events=("shop.Order",)))
    await subscribe(first, ORDER, 1)
    client_id, expires = authextra(first)["client_id"], authextra(first)["client_expires"]
    await first.leave()

    second = await ticket_join(gateway.url, "", previous=client_id)

    assert (second.details["authid"], second.details["authrole"]) == ("42", "user")
    extra = authextra(second)
    assert (extra["client_id"], extra["client_expires"], extra["resumed"]) == (
        client_id,
        expires,
        True,
    )
    assert [s["topic"] for s in extra["subscriptions"]] == [ORDER]
    # The record's grants hold: the granted event, the own channel; nothing else.
    assert (await second.request(SUBSCRIBE, 2, {}, OWN_42))[0] == SUBSCRIBED
    denied = await second.request(SUBSCRIBE, 3, {}, f"{EVENTS}.shop.Invoice")
    assert denied[0] == ERROR and denied[4] == NOT_AUTHORIZED
    # With the record's user as HELLO authid, too (this replaces the second session).
    third = await ticket_join(gateway.url, "", previous=client_id, authid="42")
    assert authextra(third)["client_expires"] == expires
    assert (await second.expect(ABORT))[2] == "telegraphy.error.session_replaced"
    await third.leave()


@pytest_twisted.ensureDeferred
async def test_resuming_a_live_session_replaces_it(gateway: GatewayProcess) -> None:
    publisher = await backend(gateway)
    first = await ticket_join(gateway.url, token("42"))
    await subscribe(first, OWN_42, 1)
    client_id = authextra(first)["client_id"]

    second = await ticket_join(gateway.url, token("42"), previous=client_id)

    abort = await first.expect(ABORT)
    assert abort[2] == "telegraphy.error.session_replaced", abort
    await first.closed()
    assert [s["topic"] for s in authextra(second)["subscriptions"]] == [OWN_42]
    await publisher.publish(OWN_42, "to the new session", options=ACK)
    assert (await next_event(second))[4] == ["to the new session"]
    await second.leave()
    publisher.leave()


@pytest_twisted.ensureDeferred
async def test_another_users_client_cannot_be_resumed(gateway: GatewayProcess) -> None:
    owner = await ticket_join(gateway.url, token("42"))
    client_id = authextra(owner)["client_id"]
    another = "previous_session belongs to another user"

    assert await refusal(gateway.url, token("43"), previous=client_id) == another
    assert await refusal(gateway.url, token(None), previous=client_id) == another
    assert await refusal(gateway.url, "", previous=client_id, authid="43") == another
    try:
        await ticket_join(gateway.url, None, previous=client_id, authmethods=("anonymous",))
    except Refused as e:
        assert e.message == another
    else:
        raise AssertionError("an anonymous session resumed a user's client")
    # None of that disturbed the owner's session.
    assert (await owner.request(SUBSCRIBE, 1, {}, OWN_42))[0] == SUBSCRIBED
    await owner.leave()


@pytest_twisted.ensureDeferred
async def test_anonymous_sessions_get_and_resume_a_client_id(gateway: GatewayProcess) -> None:
    first = await ticket_join(gateway.url, None, authmethods=("anonymous",))
    assert first.details["authmethod"] == "anonymous"
    await subscribe(first, f"{EVENTS}.news.Headline", 1)
    client_id = authextra(first)["client_id"]
    await first.leave()

    second = await ticket_join(gateway.url, None, previous=client_id, authmethods=("anonymous",))

    extra = authextra(second)
    assert (extra["client_id"], extra["resumed"]) == (client_id, True)
    assert [s["topic"] for s in extra["subscriptions"]] == [f"{EVENTS}.news.Headline"]
    assert second.details["authid"] == f"anonymous-{second.id}"
    await second.leave()
    # A user's token may not take over an anonymous client either.
    message = await refusal(gateway.url, token("42"), previous=client_id)
    assert message == "previous_session belongs to another user"


# -- expiry ---------------------------------------------------------------------------------


async def wait_until(moment: float) -> None:
    """Let wall-clock time pass until `moment` (client expiry is wall-clock time)."""
    delay = moment - time.time()
    if delay > 0:
        await task.deferLater(reactor, delay, lambda: None)


@pytest_twisted.ensureDeferred
async def test_an_expired_client_is_refused_and_resume_only_does_not_extend(
    tmp_path: Path,
) -> None:
    short = start_gateway(tmp_path, token_config("client_ttl = 2"))
    try:
        url = short.url
        kept, extended = await ticket_join(url, token("7")), await ticket_join(url, token("7"))
        kept_id, expires = authextra(kept)["client_id"], authextra(kept)["client_expires"]
        extended_id = authextra(extended)["client_id"]
        await kept.leave()
        await extended.leave()
        # From here on a fresh token would set a later expiry than the first one.
        await wait_until(expires - 2 + 1)

        resumed = await ticket_join(url, "", previous=kept_id)
        refreshed = await ticket_join(url, token("7"), previous=extended_id)

        assert authextra(resumed)["client_expires"] == expires
        assert authextra(refreshed)["client_expires"] > expires
        await resumed.leave()
        await refreshed.leave()
        await wait_until(expires + 0.1)
        expired = "unknown or expired previous_session"
        assert await refusal(url, "", previous=kept_id) == expired
        assert await refusal(url, token("7"), previous=kept_id) == expired
        still = await ticket_join(url, "", previous=extended_id)
        await still.leave()
    finally:
        short.stop()
