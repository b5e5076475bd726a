"""Property tests: any WAMP message, well or badly shaped, in any serializer and session state,
is answered as the spec says (a result or ERROR, or ABORT/GOODBYE and the close) or processed,
never left hanging; any signed ingress body gets a JSON answer, never a server error; the
gateway logs no traceback and keeps serving its other clients."""

from __future__ import annotations

import datetime
import decimal
import http.client
import json
import math
import os
from collections.abc import Iterator
from typing import Any

import cbor2
import msgpack
import pytest
import pytest_twisted
from autobahn.wamp import auth
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ticket_peers import SECRET
from wamp_socket import Closed, WampSocket

from conftest import (
    BACKEND_ID,
    BACKEND_SECRET,
    DEFAULT_CONFIG,
    assert_gateway_serves,
    start_gateway,
)
from gateway_harness import GatewayProcess
from telegraphy.core import sign_request

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ERROR = 1, 2, 3, 4, 5, 6, 8
PUBLISH, SUBSCRIBE, UNSUBSCRIBE, CALL, CANCEL, RESULT = 16, 32, 34, 48, 49, 50
REGISTER, UNREGISTER, YIELD = 64, 66, 70
CODES = [1, 2, 3, 4, 5, 6, 7, 8, 16, 17, 32, 33, 34, 35, 36, 48, 49, 50, 64, 65, 66, 67, 68, 69, 70]
ROLES = {"roles": {"publisher": {}, "subscriber": {}, "caller": {}, "callee": {}}}
PROBE = 2**53 - 1
"""The request id of the CALL sent after each generated message (generated ids stay below)."""
STATES = ("fresh", "challenged", "anonymous", "backend")
EXAMPLES = int(os.environ.get("TELEGRAPHY_FUZZ_EXAMPLES", "60"))
"""Per serializer: about two seconds each on a laptop; `make bench` (group fuzz) sets
TELEGRAPHY_FUZZ_EXAMPLES for a longer run."""

CONFIG = (
    f'secret = "{SECRET}"\n'
    + DEFAULT_CONFIG
    + (
        "max_handshakes_per_second = 100000\nmax_messages_per_second = 100000\n"
        "max_connections_per_ip = 100000\nmax_ingress_requests_per_second = 100000\n"
    )
)

uris = st.sampled_from(
    [
        "app.topic",
        "telegraphy.public.news",
        "telegraphy.subscriptions",
        "wamp.session.count",
        "wamp.subscription.get",
        "telegraphy.public.\ud800",
        "",
        "a..b",
    ]
) | st.text(max_size=12)
ids = st.integers(min_value=-1, max_value=2**53 - 2) | st.sampled_from([0, 2**53, 2**64])
numbers = (
    st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.sampled_from([math.nan, math.inf, -math.inf, 2**64, -(2**63) - 1])
)
scalars = st.none() | st.booleans() | numbers | st.text(max_size=12) | uris
extras = {
    "wamp.2.json": scalars,
    "wamp.2.msgpack": scalars
    | st.binary(max_size=8)
    | st.just(msgpack.Timestamp(1, 2))
    | st.just(msgpack.ExtType(5, b"x"))
    | st.just({b"bytes": 1}),
    "wamp.2.cbor": scalars
    | st.binary(max_size=8)
    | st.just(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    | st.just(decimal.Decimal("1.5"))
    | st.just(cbor2.CBORTag(4000, "x"))
    | st.just(frozenset({1, 2}))
    | st.just({(1, 2): "tuple key"})
    | st.integers(min_value=2**64, max_value=2**80),
}


def values(protocol: str) -> st.SearchStrategy[Any]:
    leaves = extras[protocol]
    if protocol != "wamp.2.json":  # lone surrogates cannot be encoded but in JSON's escapes
        leaves = leaves.filter(lambda v: not (isinstance(v, str) and _surrogate(v)))
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=6) | uris, inner, max_size=3)
        ),
        max_leaves=8,
    )


def messages(protocol: str) -> st.SearchStrategy[list[Any]]:
    """WAMP messages of every type a client may or may not send: the spec's shapes with any
    values in them, shapes cut short or run long, and lists that are no message at all."""
    any_ = values(protocol)
    opts = st.dictionaries(
        st.sampled_from(
            ["acknowledge", "exclude_me", "match", "eligible", "exclude", "get_retained"]
        )
        | st.text(max_size=6),
        any_,
        max_size=3,
    )
    args, kwargs = st.lists(any_, max_size=3) | any_, st.dictionaries(st.text(max_size=6), any_)
    shaped = st.one_of(
        st.tuples(st.just(HELLO), st.just("telegraphy") | uris, opts | st.just(ROLES)),
        st.tuples(st.just(AUTHENTICATE), any_, opts),
        st.tuples(st.just(GOODBYE), opts, uris),
        st.tuples(st.just(ABORT), opts, uris),
        st.tuples(st.just(ERROR), st.sampled_from(CODES), ids, opts, uris, args, kwargs),
        st.tuples(st.just(PUBLISH), ids, opts, uris, args, kwargs),
        st.tuples(st.just(SUBSCRIBE), ids, opts, uris),
        st.tuples(st.just(UNSUBSCRIBE), ids, ids),
        st.tuples(st.just(CALL), ids, opts, uris, args, kwargs),
        st.tuples(st.just(CANCEL), ids, opts),
        st.tuples(st.just(REGISTER), ids, opts, uris),
        st.tuples(st.just(UNREGISTER), ids, ids),
        st.tuples(st.just(YIELD), ids, opts, args, kwargs),
    ).map(list)
    reshaped = st.tuples(shaped, st.integers(min_value=1, max_value=7), st.lists(any_, max_size=2))
    return st.one_of(
        shaped,
        reshaped.map(lambda t: t[0][: t[1]] + t[2]),
        st.tuples(st.sampled_from(CODES) | any_, st.lists(any_, max_size=6)).map(
            lambda t: [t[0], *t[1]]
        ),
        any_.map(lambda v: v if isinstance(v, list) else [v]),
    )


def _surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def encodable(protocol: str, message: list[Any]) -> bool:
    try:
        WampSocket.encode_for(protocol, message)
    except (TypeError, ValueError, OverflowError, UnicodeEncodeError, cbor2.CBOREncodeError):
        return False
    return True


def open_in(port: int, protocol: str, state: str) -> WampSocket:
    """A connection in `state`: nothing sent yet, challenged for WAMP-CRA, or joined."""
    peer = WampSocket(port, protocol)
    if state == "fresh":
        return peer
    if state == "anonymous":
        peer.send(HELLO, "telegraphy", {**ROLES, "authmethods": ["anonymous"]})
        assert peer.receive()[0] == WELCOME
        return peer
    peer.send(HELLO, "telegraphy", {**ROLES, "authmethods": ["wampcra"], "authid": BACKEND_ID})
    challenge = peer.receive()
    assert challenge[0] == CHALLENGE, challenge
    if state == "backend":
        signature = auth.compute_wcs(BACKEND_SECRET, challenge[2]["challenge"]).decode()
        peer.send(AUTHENTICATE, signature, {})
        assert peer.receive()[0] == WELCOME
    return peer


def answered(peer: WampSocket) -> str:
    """Read until the probe's answer ("processed") or the end of the session ("closed")."""
    try:
        while True:
            message = peer.receive()
            if message[0] in (RESULT, ERROR) and PROBE in message[1:3]:
                return "processed"
            if message[0] in (ABORT, GOODBYE):
                while True:  # then the WebSocket closes; nothing may follow but its end
                    assert peer.receive()[0] != WELCOME
    except Closed:
        return "closed"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = start_gateway(tmp_path_factory.mktemp("fuzz"), CONFIG)
    yield process
    output = process.output()
    process.stop()
    assert "Traceback" not in output and "Unhandled" not in output, output


@pytest.mark.parametrize("protocol", ["wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"])
def test_every_message_is_answered_or_processed(gateway: GatewayProcess, protocol: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    @given(
        state=st.sampled_from(STATES),
        message=messages(protocol).filter(lambda m: encodable(protocol, m)),
    )
    def check(state: str, message: list[Any]) -> None:
        peer = open_in(gateway.port, protocol, state)
        try:
            peer.send(*message)
            peer.send(CALL, PROBE, {}, "wamp.session.count")
            event(f"{state}: {answered(peer)}")  # --hypothesis-show-statistics
        finally:
            peer.close()

    check()
    assert "Traceback" not in gateway.output()


def envelopes() -> st.SearchStrategy[Any]:
    """Events as the ingress takes them, with any field missing, mistyped or out of range."""
    any_ = values("wamp.2.json")
    meta = st.dictionaries(
        st.sampled_from(["event_type", "verbose_name", "timestamp", "id"]) | st.text(max_size=6),
        any_,
        max_size=5,
    )
    valid_meta = st.uuids().map(
        lambda id_: {"event_type": "create", "timestamp": "2026-01-01T12:00:00Z", "id": str(id_)}
    )
    fields = {"name": st.just("shop.Order") | uris, "meta": valid_meta | meta, "data": any_}
    envelope = st.fixed_dictionaries({}, optional=fields)
    return st.one_of(
        envelope,
        st.fixed_dictionaries({"events": st.lists(envelope, max_size=3) | any_}),
        st.fixed_dictionaries({}, optional={"ttl": any_, "user": any_, "subscribe": any_}),
        any_,
    )


@settings(max_examples=3 * EXAMPLES, deadline=None, database=None)
@given(
    path=st.sampled_from(["/ingress/event", "/ingress/events", "/ingress/token"]),
    body=envelopes().map(lambda v: json.dumps(v).encode()) | st.binary(max_size=64),
)
def test_every_signed_ingress_body_gets_a_json_answer(
    gateway: GatewayProcess, path: str, body: bytes
) -> None:
    status, answer = signed_post(gateway.port, path, body)
    assert status < 500, (status, answer)
    assert isinstance(answer, dict) and (status == 200 or "error" in answer), answer


def signed_post(port: int, path: str, body: bytes) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **sign_request(SECRET, "POST", path, body)}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest_twisted.ensureDeferred
async def test_the_gateway_still_serves_after_the_fuzzing(gateway: GatewayProcess) -> None:
    await assert_gateway_serves(gateway)
