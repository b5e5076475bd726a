"""The authorization matrix of issue 4: every {token} x {target} x {action} cell, through a real
gateway, with raw WAMP sessions (they see every EVENT on the wire, even for subscriptions a
client library would not know of) and autobahn backends.

Every refused cell also proves zero unauthorized deliveries:

* subscribe: after the refusal a backend publishes to the target, then a marker to a public
  topic the session holds; the next message the session gets must be the marker's EVENT;
* publish: a backend subscribed to the target publishes a marker there after the refusal; the
  next event it gets must be its own marker, not the session's publication;
* join refused: the session is closed after its ABORT, and got nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.types import PublishOptions
from ticket_peers import (
    CHANNELS,
    EVENTS,
    NOT_AUTHORIZED,
    Refused,
    ticket_join,
    token,
    token_config,
)

from conftest import BACKEND_ID, BACKEND_SECRET, module_gateway
from gateway_harness import Client, GatewayProcess, Inbox, join
from raw_wamp import ERROR, EVENT, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, WampPeer

gateway = module_gateway(token_config())

USER_A, USER_B = "alice", "bob"
TARGETS = {
    "public event": f"{EVENTS}.news.Headline",  # public = telegraphy.event.news.* (prefix)
    "authenticated event": f"{EVENTS}.shop.Order",
    "another user's channel": f"{CHANNELS}.user.{USER_B}",
    "own channel": f"{CHANNELS}.user.{USER_A}",
}
MARKER = f"{EVENTS}.news.Marker"
ACK = PublishOptions(acknowledge=True, exclude_me=False)

OK, NO = "allowed", NOT_AUTHORIZED
EXPIRED, USED, FORGED = "token expired", "token already used", "invalid token"
MISMATCH = "authid does not match the token"
NOT_YOURS = "previous_session belongs to another user"

# A cell is "allowed", ERROR wamp.error.not_authorized, or (when the join itself is refused)
# the message of ABORT wamp.error.authentication_denied. The session is user A's browser:
# the valid token grants A the event shop.Order and publishing to the channel chat.lobby.
# "A's token, authid B": HELLO.authid claims user B with a token for A. "A's token, B's
# client": HELLO.authextra.previous_session names B's client id, with a token for A.
#
#                                          public event auth. event  B's channel  own channel
MATRIX: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("no token", "subscribe"):                (OK,          NO,          NO,          NO),
    ("no token", "publish"):                  (NO,          NO,          NO,          NO),
    ("expired", "subscribe"):                 (EXPIRED,     EXPIRED,     EXPIRED,     EXPIRED),
    ("expired", "publish"):                   (EXPIRED,     EXPIRED,     EXPIRED,     EXPIRED),
    ("reused", "subscribe"):                  (USED,        USED,        USED,        USED),
    ("reused", "publish"):                    (USED,        USED,        USED,        USED),
    ("forged signature", "subscribe"):        (FORGED,      FORGED,      FORGED,      FORGED),
    ("forged signature", "publish"):          (FORGED,      FORGED,      FORGED,      FORGED),
    ("A's token, authid B", "subscribe"):     (MISMATCH,    MISMATCH,    MISMATCH,    MISMATCH),
    ("A's token, authid B", "publish"):       (MISMATCH,    MISMATCH,    MISMATCH,    MISMATCH),
    ("A's token, B's client", "subscribe"):   (NOT_YOURS,   NOT_YOURS,   NOT_YOURS,   NOT_YOURS),
    ("A's token, B's client", "publish"):     (NOT_YOURS,   NOT_YOURS,   NOT_YOURS,   NOT_YOURS),
    ("valid", "subscribe"):                   (OK,          OK,          NO,          OK),
    ("valid", "publish"):                     (NO,          NO,          NO,          NO),
}  # fmt: skip

CELLS = [
    pytest.param(state, target, action, expected, id=f"{state} | {target} | {action}")
    for (state, action), outcomes in MATRIX.items()
    for target, expected in zip(TARGETS, outcomes, strict=True)
]


def valid_token(user: str = USER_A) -> str:
    return token(user, events=("shop.Order",), publish=("chat.lobby",))


async def open_session(url: str, state: str) -> WampPeer:
    """User A's browser session in the given token state (raises `Refused` on ABORT)."""
    if state == "no token":
        return await ticket_join(url, None, authmethods=("anonymous",))
    if state == "expired":
        return await ticket_join(url, token(USER_A, events=("shop.Order",), ttl=60, now=0))
    if state == "reused":
        ticket = valid_token()
        await (await ticket_join(url, ticket)).leave()
        return await ticket_join(url, ticket)
    if state == "forged signature":
        forged = token(USER_A, events=("shop.Order",), secret="not-the-secret-0123456789")
        return await ticket_join(url, forged)
    if state == "A's token, authid B":  # HELLO claims user B, the token is A's
        return await ticket_join(url, valid_token(), authid=USER_B)
    if state == "A's token, B's client":  # resuming B's client id with A's token
        bob = await ticket_join(url, valid_token(USER_B))
        client_id = bob.details["authextra"]["client_id"]
        try:
            return await ticket_join(url, valid_token(), previous=client_id)
        finally:
            await bob.leave()
    assert state == "valid"
    return await ticket_join(url, valid_token())


@pytest.mark.parametrize(("state", "target", "action", "expected"), CELLS)
@pytest_twisted.ensureDeferred
async def test_cell(
    gateway: GatewayProcess, state: str, target: str, action: str, expected: str
) -> None:
    topic = TARGETS[target]
    backend = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    received = Inbox()
    await backend.subscribe(received, topic)
    try:
        session = await open_session(gateway.url, state)
    except Refused as refused:
        assert (refused.reason, refused.message) == ("wamp.error.authentication_denied", expected)
        assert refused.unread == 0, "the refused peer got more than its ABORT"
        await assert_join_refused_delivers_nothing(backend, received, topic)
        return
    try:
        marker = await subscribe(session, MARKER, 1)
        assert marker is not None, "every session may read the public marker topic"
        if action == "subscribe":
            await check_subscribe(session, backend, topic, marker, expected)
        else:
            await check_publish(session, backend, received, topic, expected)
    finally:
        await session.leave()
        backend.leave()


async def subscribe(session: WampPeer, topic: str, request: int) -> int | None:
    """The subscription id, or None if refused with not_authorized."""
    answer = await session.request(SUBSCRIBE, request, {}, topic)
    if answer[0] == ERROR:
        assert answer[4] == NOT_AUTHORIZED, answer
        return None
    assert answer[0] == SUBSCRIBED, answer
    subscription: int = answer[2]
    return subscription


async def check_subscribe(
    session: WampPeer, backend: Client, topic: str, marker: int, expected: str
) -> None:
    subscription = await subscribe(session, topic, 2)
    assert (subscription is not None) == (expected == OK), expected
    await backend.publish(topic, "for the target's subscribers", options=ACK)
    await backend.publish(MARKER, "marker", options=ACK)
    if subscription is not None:
        delivered = await next_event(session)
        assert delivered[1] == subscription and delivered[4] == ["for the target's subscribers"]
    # Refused: the marker is the very next message; nothing for the target came first.
    delivered = await next_event(session)
    assert delivered[1] == marker and delivered[4] == ["marker"], delivered


async def check_publish(
    session: WampPeer, backend: Client, received: Inbox, topic: str, expected: str
) -> None:
    answer = await session.request(PUBLISH, 2, {"acknowledge": True}, topic, ["from the browser"])
    if expected == OK:
        assert answer[0] == PUBLISHED, answer
        assert (await received.next())[0] == ("from the browser",)
        return
    assert answer[0] == ERROR and answer[4] == expected, answer
    await backend.publish(topic, "marker", options=ACK)
    assert (await received.next())[0] == ("marker",)


async def assert_join_refused_delivers_nothing(
    backend: Client, received: Inbox, topic: str
) -> None:
    # The refused peer is closed already; a publication now has nobody to reach but the
    # backend, which gets exactly its own marker.
    await backend.publish(topic, "marker", options=ACK)
    assert (await received.next())[0] == ("marker",)
    assert received.pending == 0
    backend.leave()


async def next_event(session: WampPeer) -> list[Any]:
    message = await session.receive()
    assert message[0] == EVENT, message
    return message


@pytest_twisted.ensureDeferred
async def test_a_granted_channel_may_be_published_to(gateway: GatewayProcess) -> None:
    """The control for the publish row: the valid token's granted channel works."""
    backend = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    received = Inbox()
    await backend.subscribe(received, f"{CHANNELS}.chat.lobby")
    session = await ticket_join(gateway.url, valid_token())
    answer = await session.request(
        PUBLISH, 1, {"acknowledge": True}, f"{CHANNELS}.chat.lobby", ["hi"]
    )
    assert answer[0] == PUBLISHED, answer
    assert (await received.next())[0] == ("hi",)
    await session.leave()
    backend.leave()
