"""Malformed, out-of-order and unauthorized WAMP messages get the answer the WAMP spec prescribes.

Every case speaks raw WAMP over a WebSocket, checks the ERROR or ABORT (and the closed
connection after an ABORT), then checks that the gateway still serves other clients. One
gateway serves the whole module, so a case that broke it would also fail the cases after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import pytest_twisted
from autobahn.wamp import auth
from autobahn.wamp.types import PublishOptions

from conftest import BACKEND_ID, BACKEND_SECRET, start_gateway
from gateway_harness import GatewayProcess, Inbox, RawPeer, join, left

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ERROR = 1, 2, 3, 4, 5, 6, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, EVENT = 16, 17, 32, 33, 34, 36
CALL, CANCEL, RESULT, REGISTER, REGISTERED, UNREGISTER = 48, 49, 50, 64, 65, 66
INVOCATION, INTERRUPT, YIELD = 68, 69, 70

JSON, MSGPACK = "wamp.2.json", "wamp.2.msgpack"
PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
NOT_AUTHORIZED = "wamp.error.not_authorized"
INVALID_URI = "wamp.error.invalid_uri"
HELLO_TIMEOUT = 1.0

CONFIG = f"""
realm = "telegraphy"
public = ["telegraphy.public.news", {{ uri = "telegraphy.public.", match = "prefix" }}]

[[backends]]
authid = "{BACKEND_ID}"
secret = "{BACKEND_SECRET}"

[limits]
hello_timeout = {HELLO_TIMEOUT}
shutdown_timeout = 0.5
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = start_gateway(Path(tmp_path_factory.mktemp("gateway")), CONFIG)
    yield process
    output = process.output()
    process.stop()
    # Bad input is answered, never a crash: nothing the gateway did may have raised.
    assert "Traceback" not in output and "Unhandled" not in output, output


class Peer:
    """A raw WebSocket peer that sends and receives WAMP messages as plain lists."""

    def __init__(self, raw: RawPeer, protocol: str) -> None:
        self.raw = raw
        self.binary = protocol == MSGPACK

    @classmethod
    async def connect(cls, gateway: GatewayProcess, protocol: str = JSON) -> Peer:
        return cls(await RawPeer(gateway.url, [protocol]).connect(), protocol)

    def send(self, *message: Any) -> None:
        if self.binary:
            self.raw.send(msgpack.packb(list(message)), binary=True)
        else:
            self.raw.send(json.dumps(list(message)))

    async def receive(self) -> list[Any]:
        payload = await self.raw.receive()
        message: list[Any] = msgpack.unpackb(payload) if self.binary else json.loads(payload)
        return message

    async def expect(self, kind: int) -> list[Any]:
        message = await self.receive()
        assert message[0] == kind, message
        return message

    async def hello(self, authmethods: list[str], authid: str | None = None) -> list[Any]:
        details: dict[str, Any] = {"roles": {"subscriber": {}}, "authmethods": authmethods}
        if authid is not None:
            details["authid"] = authid
        self.send(HELLO, "telegraphy", details)
        return await self.receive()

    async def expect_abort(self, reason: str) -> str:
        """The next message is ABORT with `reason`, then the gateway closes the connection."""
        message = await self.expect(ABORT)
        assert message[2] == reason, message
        await self.raw.closed()
        text: str = message[1].get("message", "")
        return text

    async def expect_error(self, request_type: int, request: int, uri: str) -> None:
        message = await self.expect(ERROR)
        assert message[1:3] == [request_type, request] and message[4] == uri, message


async def joined(gateway: GatewayProcess, backend: bool = False, protocol: str = JSON) -> Peer:
    """A raw peer with an established session: a WAMP-CRA backend, or anonymous."""
    peer = await Peer.connect(gateway, protocol)
    if not backend:
        assert (await peer.hello(["anonymous"]))[0] == WELCOME
        return peer
    challenge = await peer.hello(["wampcra"], BACKEND_ID)
    assert challenge[0] == CHALLENGE, challenge
    peer.send(AUTHENTICATE, _sign(BACKEND_SECRET, challenge), {})
    await peer.expect(WELCOME)
    return peer


def _sign(secret: str, challenge: list[Any]) -> str:
    signature: bytes = auth.compute_wcs(secret, challenge[2]["challenge"])
    return signature.decode("ascii")


async def assert_gateway_serves(gateway: GatewayProcess) -> None:
    """Another client can still join, subscribe, publish and receive the event."""
    session = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    inbox = Inbox()
    await session.subscribe(inbox, "app.health")
    await session.publish(
        "app.health", "ok", options=PublishOptions(acknowledge=True, exclude_me=False)
    )
    args, _ = await inbox.next()
    assert args == ("ok",)
    session.leave()
    await left(session)


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
    peer = await Peer.connect(gateway)
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
    peer = await Peer.connect(gateway)
    peer.send(HELLO, realm, {"roles": {"subscriber": {}}, "authmethods": authmethods})
    await peer.expect_abort(reason)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_wampcra_denies_a_wrong_signature_and_an_unknown_authid_alike(
    gateway: GatewayProcess,
) -> None:
    answers = []
    for authid, secret in [(BACKEND_ID, "wrong-secret-0123456789"), ("nobody", BACKEND_SECRET)]:
        peer = await Peer.connect(gateway)
        challenge = await peer.hello(["wampcra"], authid)
        assert challenge[:2] == [CHALLENGE, "wampcra"], challenge
        peer.send(AUTHENTICATE, _sign(secret, challenge), {})
        answers.append(await peer.expect_abort("wamp.error.authentication_denied"))
    # The same answer both times: a client must not learn which authids exist.
    assert answers[0] == answers[1]
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_handshake_must_finish_within_hello_timeout(gateway: GatewayProcess) -> None:
    established = await joined(gateway)
    silent = await Peer.connect(gateway)
    challenged = await Peer.connect(gateway)
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
    peer = await joined(gateway)
    peer.raw.send(payload)
    await peer.expect_abort(PROTOCOL_VIOLATION)
    await assert_gateway_serves(gateway)


@pytest.mark.parametrize("protocol", [JSON, MSGPACK])
@pytest_twisted.ensureDeferred
async def test_frame_type_must_match_the_serializer(gateway: GatewayProcess, protocol: str) -> None:
    peer = await joined(gateway, protocol=protocol)
    # Valid UTF-8 either way, so that it is the WAMP layer that refuses the frame.
    peer.raw.send(json.dumps([SUBSCRIBE, 1, {}, "telegraphy.public.news"]), binary=not peer.binary)
    await peer.expect_abort(PROTOCOL_VIOLATION)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_text_frame_that_is_not_utf8_fails_the_websocket(gateway: GatewayProcess) -> None:
    peer = await joined(gateway)
    peer.raw.send(b'[32, 1, {}, "\xff\xfe"]', binary=False)
    code, _ = await peer.raw.closed()
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
    peer = await joined(gateway, backend=True)
    peer.send(*message)
    await peer.expect_abort(PROTOCOL_VIOLATION)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_invalid_uris_are_refused_with_invalid_uri(gateway: GatewayProcess) -> None:
    peer = await joined(gateway, backend=True)
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
    peer = await joined(gateway, backend=True)
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
    peer = await joined(gateway, protocol=protocol)
    peer.send(GOODBYE, {}, "wamp.close.close_realm")
    assert (await peer.expect(GOODBYE))[2] == "wamp.close.goodbye_and_out"
    await peer.raw.closed()
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_abort_from_client_closes_without_answer(gateway: GatewayProcess) -> None:
    established = await joined(gateway)
    challenged = await Peer.connect(gateway)
    assert (await challenged.hello(["wampcra"], BACKEND_ID))[0] == CHALLENGE
    for peer in (established, challenged):
        peer.send(ABORT, {}, "wamp.close.system_shutdown")
        await peer.raw.closed()
        # An ABORT is never answered.
        assert peer.raw.factory.messages.pending == []
    await assert_gateway_serves(gateway)


# -- reserved URIs and permissions -----------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_wamp_uris_are_reserved_for_the_router(gateway: GatewayProcess) -> None:
    peer = await joined(gateway, backend=True)
    peer.send(PUBLISH, 1, {"acknowledge": True}, "wamp.session.on_join")
    await peer.expect_error(PUBLISH, 1, NOT_AUTHORIZED)
    peer.send(REGISTER, 2, {}, "wamp.session.count")
    await peer.expect_error(REGISTER, 2, NOT_AUTHORIZED)
    peer.send(REGISTER, 3, {"match": "prefix"}, "wamp.")
    await peer.expect_error(REGISTER, 3, NOT_AUTHORIZED)
    await assert_gateway_serves(gateway)


@pytest_twisted.ensureDeferred
async def test_anonymous_may_only_subscribe_to_public_topics(gateway: GatewayProcess) -> None:
    peer = await joined(gateway)
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

    peer = await joined(gateway)
    peer.send(PUBLISH, 1, {}, "telegraphy.public.news")
    peer.send(SUBSCRIBE, 2, {}, "telegraphy.public.news")
    assert (await peer.expect(SUBSCRIBED))[1] == 2
    anonymous.leave()
    await left(anonymous)
    await assert_gateway_serves(gateway)
