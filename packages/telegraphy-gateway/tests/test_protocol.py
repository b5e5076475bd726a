"""Malformed, out-of-order and unauthorized WAMP messages get the answer the WAMP spec prescribes.

Every case speaks raw WAMP over a WebSocket, checks the ERROR or ABORT (and the closed
connection after an ABORT), then checks that the gateway still serves other clients. One
gateway serves the whole module, so a case that broke it would also fail the cases after it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import pytest_twisted

from conftest import (
    BACKEND_ID,
    BACKEND_SECRET,
    assert_gateway_serves,
    config_with_limits,
    module_gateway,
)
from gateway_harness import GatewayProcess, Inbox, RawPeer, join, left
from raw_wamp import (
    ABORT,
    AUTHENTICATE,
    CALL,
    CANCEL,
    CHALLENGE,
    ERROR,
    EVENT,
    GOODBYE,
    HELLO,
    INTERRUPT,
    INVOCATION,
    JSON,
    MSGPACK,
    PUBLISH,
    PUBLISHED,
    REGISTER,
    REGISTERED,
    RESULT,
    SUBSCRIBE,
    SUBSCRIBED,
    UNREGISTER,
    UNSUBSCRIBE,
    WELCOME,
    YIELD,
    WampPeer,
    raw_join,
    sign,
)

PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
NOT_AUTHORIZED = "wamp.error.not_authorized"
INVALID_URI = "wamp.error.invalid_uri"
HELLO_TIMEOUT = 1.0

gateway = module_gateway(config_with_limits(hello_timeout=HELLO_TIMEOUT, shutdown_timeout=0.5))


# -- opening handshake -----------------------------------------------------------------------


@pytest.mark.parametrize("protocols", [[], ["wamp.2.xml"]], ids=["none", "unknown"])
@pytest_twisted.ensureDeferred
async def test_websocket_handshake_needs_a_wamp_subprotocol(
    gateway: GatewayProcess, protocols: list[str]
) -> None:
    with pytest.raises(ConnectionError):
        await RawPeer(gateway.url, protocols).connect()
    await assert_gateway_serves(gateway)


@pytest.mark.parametrize(
    "message",
    [
        [PUBLISH, 1, {}, "telegraphy.public.news"],
        [SUBSCRIBE, 1, {}, "telegraphy.public.news"],
        [AUTHENTICATE, "signature", {}],
        [GOODBYE, {}, "wamp.close.close_realm"],
        [WELCOME, 1, {"roles": {"broker": {}}}],
    ],
    ids=["publish", "subscribe", "authenticate", "goodbye", "welcome"],
)
@pytest_twisted.ensureDeferred
async def test_first_message_must_be_hello(gateway: GatewayProcess, message: list[Any]) -> None:
    peer = await WampPeer.connect(gateway.url)
    peer.send(*message)
    await peer.expect_abort(PROTOCOL_VIOLATION)
    await assert_gateway_serves(gateway)


@pytest.mark.parametrize(
    ("realm", "authmethods", "reason"),
    [
        ("elsewhere", ["anonymous"], "wamp.error.no_such_realm"),
        ("telegraphy", ["ticket", "cryptosign"], "wamp.error.no_matching_auth_method"),
    ],
    ids=["unknown-realm", "unsupported-authmethods"],
)
@pytest_twisted.ensureDeferred
async def test_hello_is_refused_with_the_reason(
    gateway: GatewayProcess, realm: str, authmethods: list[str], reason: str
) -> None:
    peer = await WampPeer.connect(gateway.url)
    peer.send_hello(authmethods, realm=realm)
    await peer.expect_abort(reason)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_wampcra_denies_a_wrong_signature_and_an_unknown_authid_alike(
    gateway: GatewayProcess,
) -> None:
    answers = []
    for authid, secret in [(BACKEND_ID, "wrong-secret-0123456789"), ("nobody", BACKEND_SECRET)]:
        peer = await WampPeer.connect(gateway.url)
        challenge = await peer.hello(["wampcra"], authid)
        assert challenge[:2] == [CHALLENGE, "wampcra"], challenge
        peer.send(AUTHENTICATE, sign(secret, challenge), {})
        answers.append(await peer.expect_abort("wamp.error.authentication_denied"))
    # The same answer both times: a client must not learn which authids exist.
    assert answers[0] == answers[1]
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_handshake_must_finish_within_hello_timeout(gateway: GatewayProcess) -> None:
    established = await raw_join(gateway.url)
    silent = await WampPeer.connect(gateway.url)
    challenged = await WampPeer.connect(gateway.url)
    assert (await challenged.hello(["wampcra"], BACKEND_ID))[0] == CHALLENGE

    # Neither sends anything more: both are aborted once hello_timeout has passed.
    await silent.expect_abort(PROTOCOL_VIOLATION)
    await challenged.expect_abort(PROTOCOL_VIOLATION)
    # The session that joined first is past its hello_timeout too, and is not affected.
    established.send(SUBSCRIBE, 1, {}, "telegraphy.public.news")
    assert (await established.expect(SUBSCRIBED))[1] == 1
    await assert_gateway_serves(gateway)


# -- malformed messages ----------------------------------------------------------------------

MALFORMED = {
    "not-json": "{not json",
    "not-an-array": '{"type": 32}',
    "empty-array": "[]",
    "type-not-int": '["32", 1, {}, "telegraphy.public.news"]',
    "type-float": '[32.0, 1, {}, "telegraphy.public.news"]',
    "unknown-type": "[99, 1, {}]",
    "request-id-string": '[32, "1", {}, "telegraphy.public.news"]',
    "request-id-negative": '[32, -1, {}, "telegraphy.public.news"]',
    "options-not-dict": '[16, 1, [], "telegraphy.public.news"]',
    "topic-not-string": "[32, 1, {}, 42]",
    "too-short": "[32, 1, {}]",
    "too-long": "[34, 1, 2, 3, 4, 5]",
    "args-not-list": '[16, 1, {}, "telegraphy.public.news", {"a": 1}]',
    "unknown-match": '[32, 1, {"match": "regex"}, "telegraphy.public.news"]',
}


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
@pytest_twisted.ensureDeferred
async def test_malformed_message_aborts_the_session(gateway: GatewayProcess, payload: str) -> None:
    peer = await raw_join(gateway.url)
    peer.raw.send(payload)
    await peer.expect_abort(PROTOCOL_VIOLATION)
    await assert_gateway_serves(gateway)


@pytest.mark.parametrize("protocol", [JSON, MSGPACK])
@pytest_twisted.ensureDeferred
async def test_frame_type_must_match_the_serializer(gateway: GatewayProcess, protocol: str) -> None:
    peer = await raw_join(gateway.url, protocol=protocol)
    # Valid UTF-8 either way, so that it is the WAMP layer that refuses the frame.
    peer.raw.send(json.dumps([SUBSCRIBE, 1, {}, "telegraphy.public.news"]), binary=not peer.binary)
    await peer.expect_abort(PROTOCOL_VIOLATION)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_text_frame_that_is_not_utf8_fails_the_websocket(gateway: GatewayProcess) -> None:
    peer = await raw_join(gateway.url)
    peer.raw.send(b'[32, 1, {}, "\xff\xfe"]', binary=False)
    code, _ = await peer.closed()
    assert code == 1007  # RFC 6455: invalid frame payload data
    await assert_gateway_serves(gateway)


ROUTER_ONLY = {
    "hello-again": [HELLO, "telegraphy", {"roles": {"subscriber": {}}}],
    "welcome": [WELCOME, 1, {"roles": {"broker": {}}}],
    "challenge": [CHALLENGE, "wampcra", {}],
    "authenticate": [AUTHENTICATE, "signature", {}],
    "published": [PUBLISHED, 1, 2],
    "subscribed": [SUBSCRIBED, 1, 2],
    "event": [EVENT, 1, 2, {}],
    "result": [RESULT, 1, {}],
    "registered": [REGISTERED, 1, 2],
    "invocation": [INVOCATION, 1, 2, {}],
    "interrupt": [INTERRUPT, 1, {}],
    "error-for-subscribe": [ERROR, SUBSCRIBE, 1, {}, "app.error.oops"],
    "error-for-call": [ERROR, CALL, 1, {}, "app.error.oops"],
}


@pytest.mark.parametrize("message", ROUTER_ONLY.values(), ids=ROUTER_ONLY.keys())
@pytest_twisted.ensureDeferred
async def test_message_a_client_may_not_send_aborts(
    gateway: GatewayProcess, message: list[Any]
) -> None:
    peer = await raw_join(gateway.url, backend=True)
    peer.send(*message)
    await peer.expect_abort(PROTOCOL_VIOLATION)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_invalid_uris_are_refused_with_invalid_uri(gateway: GatewayProcess) -> None:
    peer = await raw_join(gateway.url, backend=True)
    requests = [
        [SUBSCRIBE, 1, {}, "a..b"],
        [SUBSCRIBE, 2, {"match": "prefix"}, "a b"],
        [SUBSCRIBE, 3, {"match": "wildcard"}, "a.#.b"],
        [PUBLISH, 4, {"acknowledge": True}, "bad uri"],
        [REGISTER, 5, {}, "bad uri"],
        [CALL, 6, {}, "a..b"],
    ]
    for request in requests:
        peer.send(*request)
        await peer.expect_error(request[0], request[1], INVALID_URI)
    # The session is still usable.
    peer.send(SUBSCRIBE, 7, {}, "a.b")
    assert (await peer.expect(SUBSCRIBED))[1] == 7
    await assert_gateway_serves(gateway)


# -- out-of-order requests and references to unknown ids -------------------------------------


@pytest_twisted.ensureDeferred
async def test_unknown_ids_are_refused_or_ignored(gateway: GatewayProcess) -> None:
    peer = await raw_join(gateway.url, backend=True)
    peer.send(UNSUBSCRIBE, 1, 123456)
    await peer.expect_error(UNSUBSCRIBE, 1, "wamp.error.no_such_subscription")
    peer.send(UNREGISTER, 2, 123456)
    await peer.expect_error(UNREGISTER, 2, "wamp.error.no_such_registration")
    peer.send(CALL, 3, {}, "app.nobody.home")
    await peer.expect_error(CALL, 3, "wamp.error.no_such_procedure")

    # Answers to invocations that do not exist (late, or made up) are dropped without a reply:
    # the next message the peer gets is the answer to the CALL after them.
    peer.send(YIELD, 424242, {}, ["late"])
    peer.send(ERROR, INVOCATION, 424243, {}, "app.error.late")
    peer.send(CANCEL, 424244, {})
    peer.send(CALL, 4, {}, "wamp.session.count")
    result = await peer.expect(RESULT)
    assert result[1] == 4
    await assert_gateway_serves(gateway)


@pytest.mark.parametrize("protocol", [JSON, MSGPACK])
@pytest_twisted.ensureDeferred
async def test_goodbye_is_answered_with_goodbye_and_out(
    gateway: GatewayProcess, protocol: str
) -> None:
    peer = await raw_join(gateway.url, protocol=protocol)
    peer.send(GOODBYE, {}, "wamp.close.close_realm")
    assert (await peer.expect(GOODBYE))[2] == "wamp.close.goodbye_and_out"
    await peer.closed()
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_abort_from_client_closes_without_answer(gateway: GatewayProcess) -> None:
    established = await raw_join(gateway.url)
    challenged = await WampPeer.connect(gateway.url)
    assert (await challenged.hello(["wampcra"], BACKEND_ID))[0] == CHALLENGE
    for peer in (established, challenged):
        peer.send(ABORT, {}, "wamp.close.system_shutdown")
        await peer.closed()
        # An ABORT is never answered.
        assert peer.unread == 0
    await assert_gateway_serves(gateway)


# -- reserved URIs and permissions -----------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_wamp_uris_are_reserved_for_the_router(gateway: GatewayProcess) -> None:
    peer = await raw_join(gateway.url, backend=True)
    peer.send(PUBLISH, 1, {"acknowledge": True}, "wamp.session.on_join")
    await peer.expect_error(PUBLISH, 1, NOT_AUTHORIZED)
    peer.send(REGISTER, 2, {}, "wamp.session.count")
    await peer.expect_error(REGISTER, 2, NOT_AUTHORIZED)
    peer.send(REGISTER, 3, {"match": "prefix"}, "wamp.")
    await peer.expect_error(REGISTER, 3, NOT_AUTHORIZED)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_anonymous_may_only_subscribe_to_public_topics(gateway: GatewayProcess) -> None:
    peer = await raw_join(gateway.url)
    refused = [
        [PUBLISH, 1, {"acknowledge": True}, "telegraphy.public.news"],
        [CALL, 2, {}, "wamp.session.count"],
        [REGISTER, 3, {}, "telegraphy.public.procedure"],
        [SUBSCRIBE, 4, {}, "app.private"],
        [SUBSCRIBE, 5, {"match": "prefix"}, "telegraphy."],
        [SUBSCRIBE, 6, {"match": "prefix"}, "telegraphy.pub"],
        [SUBSCRIBE, 7, {"match": "wildcard"}, "telegraphy..news"],
        [SUBSCRIBE, 8, {}, "wamp.session.on_join"],
    ]
    for request in refused:
        peer.send(*request)
        await peer.expect_error(request[0], request[1], NOT_AUTHORIZED)
    allowed = [
        [SUBSCRIBE, 9, {}, "telegraphy.public.news"],
        [SUBSCRIBE, 10, {"match": "prefix"}, "telegraphy.public."],
        [SUBSCRIBE, 11, {"match": "prefix"}, "telegraphy.public.sports."],
    ]
    for request in allowed:
        peer.send(*request)
        assert (await peer.expect(SUBSCRIBED))[1] == request[1]
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_refused_unacknowledged_publish_gets_no_answer(gateway: GatewayProcess) -> None:
    # Without acknowledge the spec sends no ERROR, and autobahn drops a session that gets one.
    anonymous = await join(gateway.url)
    anonymous.publish("telegraphy.public.news", "not allowed")
    await anonymous.subscribe(Inbox(), "telegraphy.public.news")
    assert anonymous.is_attached()

    peer = await raw_join(gateway.url)
    peer.send(PUBLISH, 1, {}, "telegraphy.public.news")
    peer.send(SUBSCRIBE, 2, {}, "telegraphy.public.news")
    assert (await peer.expect(SUBSCRIBED))[1] == 2
    anonymous.leave()
    await left(anonymous)
    await assert_gateway_serves(gateway)
