"""The ingress: signed JSON and XML-RPC requests to a real gateway, received by real autobahn
subscribers; every refusal answered with its documented status and code, publishing nothing."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import time
import xmlrpc.client
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
import pytest_twisted
from autobahn.wamp.types import SubscribeOptions

from conftest import BACKEND_ID, BACKEND_SECRET, config_with_limits, module_gateway, start_gateway
from gateway_harness import Client, GatewayProcess, Inbox, join
from telegraphy.core import sign_request, signature
from telegraphy.gateway import ConfigError, config_from_mapping, load_config

SECRET = "ingress-secret-0123456789abcdef"
PREFIX = "telegraphy.event"
MAX_BODY = 8192
MAX_BATCH = 5
CONFIG = (
    f'secret = "{SECRET}"\n'
    + config_with_limits()
    + f"\n[ingress]\nmax_body_size = {MAX_BODY}\nmax_batch = {MAX_BATCH}\n"
)
DOCS = Path(__file__).parents[3] / "docs" / "ingress.rst"

gateway = module_gateway(CONFIG)


def event(n: int, name: str = "shop.Order", **data: Any) -> dict[str, Any]:
    return {
        "name": name,
        "meta": {
            "event_type": "create",
            "verbose_name": "Order",
            "timestamp": "2026-01-01T12:00:00Z",
            "id": f"order-{n}-{secrets.token_hex(4)}",  # unique: the ingress ignores repeats
        },
        "data": {"n": n, "total": 9.5, "paid": True, "tags": ["a", None], **data},
    }


def acknowledged(*events: dict[str, Any]) -> dict[str, Any]:
    """The ingress's answer for `events`, newly published, at any positions."""
    ids = [e["meta"]["id"] for e in events]
    return {"published": len(ids), "duplicates": 0, "ids": ids, "positions": [ANY] * len(ids)}


def post(
    gateway: GatewayProcess,
    path: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
    content_type: str = "application/json",
    method: str = "POST",
) -> tuple[int, Any]:
    """Send a request signed for its path and body (unless `headers` are given instead);
    the status and the parsed JSON answer (the raw bytes if it is not JSON)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signed = sign_request(secret, method, path, raw) if headers is None else headers
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    try:
        connection.request(method, path, body=raw, headers={"Content-Type": content_type, **signed})
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    is_json = response.getheader("content-type") == "application/json"
    return response.status, json.loads(answer) if is_json else answer


async def subscriber(gateway: GatewayProcess, serializer: str = "json") -> tuple[Client, Inbox]:
    """A backend session subscribed to every ingress topic (prefix match, with details)."""
    session = await join(
        gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET, serializer=serializer
    )
    inbox = Inbox()
    await session.subscribe(
        inbox, f"{PREFIX}.", options=SubscribeOptions(match="prefix", details_arg="details")
    )
    return session, inbox


async def assert_nothing_published(gateway: GatewayProcess, inbox: Inbox) -> None:
    """A marker published now must be the next event: nothing was published before it."""
    assert post(gateway, "/ingress/event", event(0, name="test.marker"))[0] == 200
    args, _ = await inbox.next()
    assert args[0]["name"] == "test.marker", args


# -- publishing ---------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_event_reaches_subscribers_as_the_exact_envelope(gateway: GatewayProcess) -> None:
    session, inbox = await subscriber(gateway)
    msgpack_session = await join(
        gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET, serializer="msgpack"
    )
    exact = Inbox()
    await msgpack_session.subscribe(exact, f"{PREFIX}.shop.Order")
    sent = event(1, verbose=None, nested={"deep": [1, 2.5, {"x": "é"}]})

    assert post(gateway, "/ingress/event", sent) == (200, acknowledged(sent))

    args, kwargs = await inbox.next()
    assert args == (sent,) and set(kwargs) == {"details"}
    assert kwargs["details"].topic == f"{PREFIX}.shop.Order"
    assert kwargs["details"].publisher is None
    assert await exact.next() == ((sent,), {})
    session.leave()
    msgpack_session.leave()


@pytest_twisted.ensureDeferred
async def test_batch_is_published_in_order(gateway: GatewayProcess) -> None:
    session, inbox = await subscriber(gateway)
    batch = [event(1), event(2, name="chat.room-1"), event(3, name="shop.Item")]

    status, answer = post(gateway, "/ingress/events", {"events": batch})

    assert (status, answer) == (200, acknowledged(*batch))
    for sent in batch:
        args, kwargs = await inbox.next()
        assert args == (sent,)
        assert kwargs["details"].topic == f"{PREFIX}.{sent['name']}"
    session.leave()


@pytest_twisted.ensureDeferred
async def test_meta_channel_publishes_on_the_channels_topic_instead(
    gateway: GatewayProcess,
) -> None:
    session, events = await subscriber(gateway)
    channel = Inbox()
    await session.subscribe(channel, "telegraphy.channel.user.42")
    sent = event(1, name="notes.Notice")
    sent["meta"]["channel"] = "user.42"

    assert post(gateway, "/ingress/event", sent)[0] == 200

    assert await channel.next() == ((sent,), {})
    await assert_nothing_published(gateway, events)  # not on the event's own topic
    bad = event(2)
    bad["meta"]["channel"] = "not a channel"
    status, answer = post(gateway, "/ingress/events", {"events": [event(3), bad]})
    assert (status, answer["error"], answer["index"]) == (422, "invalid_event", 1)
    assert "invalid event name 'not a channel'" in answer["message"]
    await assert_nothing_published(gateway, events)
    session.leave()


@pytest_twisted.ensureDeferred
async def test_replayed_request_is_refused_and_published_once(gateway: GatewayProcess) -> None:
    session, inbox = await subscriber(gateway)
    sent = event(7)
    body = json.dumps(sent).encode()
    headers = sign_request(SECRET, "POST", "/ingress/event", body)

    first = post(gateway, "/ingress/event", body, headers=headers)
    again = post(gateway, "/ingress/event", body, headers=headers)

    assert first[0] == 200
    assert again == (401, {"error": "replayed_nonce", "message": "this nonce was used already"})
    args, _ = await inbox.next()
    assert args[0]["meta"]["id"] == sent["meta"]["id"]
    await assert_nothing_published(gateway, inbox)
    session.leave()


# -- refusals -----------------------------------------------------------------------------

BODY = json.dumps(event(9)).encode()


def signed(**changes: Any) -> dict[str, str]:
    """Headers for BODY at /ingress/event, signed with these parts changed."""
    parts: dict[str, Any] = {
        "secret": SECRET,
        "path": "/ingress/event",
        "body": BODY,
        "timestamp": str(int(time.time())),
        "nonce": os.urandom(16).hex(),
    }
    parts.update(changes)
    digest = signature(
        parts["secret"], "POST", parts["path"], parts["timestamp"], parts["nonce"], parts["body"]
    )
    return {
        "X-Telegraphy-Timestamp": parts["timestamp"],
        "X-Telegraphy-Nonce": parts["nonce"],
        "X-Telegraphy-Signature": f"v1={digest}",
    }


def without(header: str) -> dict[str, str]:
    return {k: v for k, v in signed().items() if k != header}


SIGNATURE_REFUSALS = {
    "forged body": (lambda: signed(body=b'{"name": "other"}'), 401, "bad_signature"),
    "wrong secret": (lambda: signed(secret="another-secret-0123456789"), 401, "bad_signature"),
    "other path": (lambda: signed(path="/ingress/events"), 401, "bad_signature"),
    "other scheme": (
        lambda: {**signed(), "X-Telegraphy-Signature": "v2=" + "0" * 64},
        401,
        "bad_signature",
    ),
    "expired": (lambda: signed(timestamp=str(int(time.time()) - 120)), 401, "stale_timestamp"),
    "future": (lambda: signed(timestamp=str(int(time.time()) + 120)), 401, "stale_timestamp"),
    "no timestamp": (lambda: without("X-Telegraphy-Timestamp"), 401, "missing_signature"),
    "no nonce": (lambda: without("X-Telegraphy-Nonce"), 401, "missing_signature"),
    "no signature": (lambda: without("X-Telegraphy-Signature"), 401, "missing_signature"),
    "no headers": (lambda: {}, 401, "missing_signature"),
    "timestamp text": (lambda: signed(timestamp="yesterday"), 401, "malformed_signature"),
    "short nonce": (lambda: signed(nonce="abc"), 401, "malformed_signature"),
}


@pytest.mark.parametrize("case", SIGNATURE_REFUSALS)
@pytest_twisted.ensureDeferred
async def test_bad_signatures_are_refused(gateway: GatewayProcess, case: str) -> None:
    session, inbox = await subscriber(gateway)
    headers, status, code = SIGNATURE_REFUSALS[case]

    answer = post(gateway, "/ingress/event", BODY, headers=headers())

    assert answer[0] == status and answer[1]["error"] == code, answer
    assert answer[1]["message"]
    await assert_nothing_published(gateway, inbox)
    session.leave()


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def bad_meta(**meta: Any) -> dict[str, Any]:
    sent = event(1)
    sent["meta"].update(meta)
    return sent


ONE, BATCH, UNSUPPORTED = "/ingress/event", "/ingress/events", "unsupported_media_type"
BODY_REFUSALS: dict[str, tuple[str, Any, dict[str, Any], int, str]] = {
    # case: (path, body, post() options, status, code)
    "malformed JSON": (ONE, b'{"name": ', {}, 400, "invalid_json"),
    "NaN": (ONE, b'{"name": NaN}', {}, 400, "invalid_json"),
    "not UTF-8": (ONE, b'{"name": "\xff"}', {}, 400, "invalid_json"),
    "nested too deep for JSON": (ONE, b"[" * 3000 + b"]" * 3000, {}, 400, "invalid_json"),
    "array": (ONE, [event(1)], {}, 400, "not_an_object"),
    "batch not an object": (BATCH, [event(1)], {}, 400, "not_an_object"),
    "missing name": (ONE, {"meta": event(1)["meta"], "data": {}}, {}, 422, "invalid_event"),
    "unknown key": (ONE, {**event(1), "extra": 1}, {}, 422, "invalid_event"),
    "name not a string": (ONE, {**event(1), "name": 42}, {}, 422, "invalid_event"),
    "name with a space": (ONE, event(1, name="shop Order"), {}, 422, "invalid_event"),
    "data not an object": (ONE, {**event(1), "data": [1]}, {}, 422, "invalid_event"),
    "meta not an object": (ONE, {**event(1), "meta": "x"}, {}, 422, "invalid_event"),
    "id missing": (ONE, bad_meta(id=""), {}, 422, "invalid_event"),
    "timestamp a number": (ONE, bad_meta(timestamp=5), {}, 422, "invalid_event"),
    "timestamp not a date": (ONE, bad_meta(timestamp="soon"), {}, 422, "invalid_event"),
    "verbose_name a number": (ONE, bad_meta(verbose_name=1), {}, 422, "invalid_event"),
    "integer over 64 bits": (ONE, event(1, big=2**70), {}, 422, "invalid_event"),
    "lone surrogate": (ONE, event(1, text="\ud800"), {}, 422, "invalid_event"),
    "nested too deep": (ONE, event(1, deep=nested(150)), {}, 422, "invalid_event"),
    "batch without events": (BATCH, {"event": []}, {}, 422, "invalid_event"),
    "empty batch": (BATCH, {"events": []}, {}, 422, "invalid_event"),
    "batch over max_batch": (
        BATCH,
        {"events": [event(i) for i in range(MAX_BATCH + 1)]},
        {},
        413,
        "too_large",
    ),
    "body over max_body_size": (ONE, event(1, pad="x" * MAX_BODY), {}, 413, "too_large"),
    "text/plain": (ONE, event(1), {"content_type": "text/plain"}, 415, UNSUPPORTED),
    "GET": (ONE, b"", {"method": "GET"}, 405, "method_not_allowed"),
    "unknown endpoint": ("/ingress/evnt", event(1), {}, 404, "not_found"),
    "trailing slash": ("/ingress/event/", event(1), {}, 404, "not_found"),
}  # fmt: skip


@pytest.mark.parametrize("case", BODY_REFUSALS)
@pytest_twisted.ensureDeferred
async def test_bad_requests_are_refused(gateway: GatewayProcess, case: str) -> None:
    session, inbox = await subscriber(gateway)
    path, body, options, status, code = BODY_REFUSALS[case]

    answer = post(gateway, path, body, **options)

    assert answer[0] == status and answer[1]["error"] == code, answer
    assert set(answer[1]) == {"error", "message"} and answer[1]["message"]
    await assert_nothing_published(gateway, inbox)
    session.leave()


@pytest_twisted.ensureDeferred
async def test_one_bad_event_refuses_the_whole_batch(gateway: GatewayProcess) -> None:
    session, inbox = await subscriber(gateway)
    batch = [event(1), event(2), bad_meta(timestamp="soon"), event(4)]

    status, answer = post(gateway, "/ingress/events", {"events": batch})

    assert (status, answer["error"], answer["index"]) == (422, "invalid_event", 2)
    assert answer["message"].startswith("events[2]: meta.timestamp")
    await assert_nothing_published(gateway, inbox)
    session.leave()


def test_oversized_body_is_refused_whatever_its_framing(gateway: GatewayProcess) -> None:
    """A chunked body has no Content-Length to check up front: it is cut off as it arrives."""
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    chunks = (b"x" * 1024 for _ in range(MAX_BODY // 1024 + 2))
    connection.request("POST", "/ingress/events", body=chunks, encode_chunked=True)
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["error"]) == (413, "too_large")
    connection.close()


def test_refusals_are_logged_without_secrets(gateway: GatewayProcess) -> None:
    headers = signed(secret="a-guessed-secret-0123456789")

    assert post(gateway, "/ingress/event", BODY, headers=headers)[0] == 401

    output = gateway.output()
    assert "ingress enabled" in output
    assert "ingress refused bad_signature (401) from 127.0.0.1:" in output
    digest = headers["X-Telegraphy-Signature"].removeprefix("v1=")
    assert SECRET not in output and digest not in output


# -- XML-RPC ------------------------------------------------------------------------------


class SignedTransport(xmlrpc.client.Transport):
    """Adds the signature headers over the XML body, as docs/ingress.rst shows."""

    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self.secret = secret

    def send_content(self, connection: http.client.HTTPConnection, request_body: Any) -> None:
        for name, value in sign_request(
            self.secret, "POST", "/ingress/xmlrpc", bytes(request_body)
        ).items():
            connection.putheader(name, value)
        super().send_content(connection, request_body)


def xmlrpc_proxy(gateway: GatewayProcess, secret: str | None = SECRET) -> Any:
    transport = SignedTransport(secret) if secret else None
    url = f"{gateway.http_url}/ingress/xmlrpc"
    return xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True)


@pytest_twisted.ensureDeferred
async def test_xmlrpc_send_event_and_send_events_reach_subscribers(
    gateway: GatewayProcess,
) -> None:
    session, inbox = await subscriber(gateway)
    single = bad_meta(verbose_name=None)
    batch = [event(2), event(3, name="chat.room-1")]
    with xmlrpc_proxy(gateway) as proxy:
        assert proxy.send_event(single) == acknowledged(single)
        assert proxy.send_events(batch) == acknowledged(*batch)

    for sent in [single, *batch]:
        args, kwargs = await inbox.next()
        assert args == (sent,) and kwargs["details"].topic == f"{PREFIX}.{sent['name']}"
    session.leave()


XMLRPC_FAULTS: dict[str, tuple[str, tuple[Any, ...], int, str]] = {
    "dateTime": ("send_event", (event(1, at=datetime(2026, 1, 1)),), 422, "ISO 8601"),
    "base64": ("send_event", (event(1, raw=xmlrpc.client.Binary(b"x")),), 422, "base64"),
    "invalid event": ("send_event", (event(1, name="shop Order"),), 422, "events[0]"),
    "not a struct": ("send_event", ("shop.Order",), 422, "must be an object"),
    "bad event in batch": ("send_events", ([event(1), bad_meta(id="")],), 422, "events[1]"),
    "empty batch": ("send_events", ([],), 422, "1 to 5"),
    "batch over max_batch": ("send_events", ([event(i) for i in range(6)],), 413, "1 to 5"),
    "no argument": ("send_event", (), 400, "one argument"),
    "batch not an array": ("send_events", (event(1),), 400, "array"),
    "unknown method": ("publish", (event(1),), 404, "no method 'publish'"),
}


@pytest.mark.parametrize("case", XMLRPC_FAULTS)
@pytest_twisted.ensureDeferred
async def test_xmlrpc_refuses_bad_events_with_faults(gateway: GatewayProcess, case: str) -> None:
    session, inbox = await subscriber(gateway)
    method, params, code, text = XMLRPC_FAULTS[case]

    with xmlrpc_proxy(gateway) as proxy, pytest.raises(xmlrpc.client.Fault) as fault:
        getattr(proxy, method)(*params)

    assert fault.value.faultCode == code and text in fault.value.faultString
    await assert_nothing_published(gateway, inbox)
    session.leave()


def test_xmlrpc_refuses_unsigned_and_malformed_requests(gateway: GatewayProcess) -> None:
    for secret in (None, "another-secret-0123456789"):
        with (
            xmlrpc_proxy(gateway, secret) as proxy,
            pytest.raises(xmlrpc.client.ProtocolError) as refused,
        ):
            proxy.send_event(event(1))
        assert refused.value.errcode == 401
    status, answer = post(gateway, "/ingress/xmlrpc", b"<not xml", content_type="text/xml")
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as not_xml:
        xmlrpc.client.loads(answer)
    assert not_xml.value.faultCode == 400
    assert post(gateway, "/ingress/xmlrpc", b"", method="GET") == (
        405,
        {"error": "method_not_allowed", "message": "the ingress accepts POST only (see "
         "docs/ingress.rst)"},
    )  # fmt: skip


# -- the docs -----------------------------------------------------------------------------


def docs_script() -> str:
    """The bash block that follows the comment saying the tests run it, dedented."""
    lines = DOCS.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "code block is run by" in line)
    start = next(i for i in range(start, len(lines)) if lines[i].startswith(".. code-block::"))
    block: list[str] = []
    for line in lines[start + 1 :]:
        if line and not line.startswith("   "):
            break
        block.append(line[3:])
    return "\n".join(block).strip() + "\n"


@pytest_twisted.ensureDeferred
async def test_the_curl_and_openssl_example_in_the_docs_works(gateway: GatewayProcess) -> None:
    session, inbox = await subscriber(gateway)
    script = docs_script()
    assert "curl" in script and "openssl" in script

    done = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "GATEWAY": gateway.http_url, "TELEGRAPHY_SECRET": SECRET},
        capture_output=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["published"], answer["ids"]) == (1, ["order-42-create"])
    args, _ = await inbox.next()
    assert args[0]["name"] == "shop.Order"
    assert args[0]["data"] == {"id": 42, "total": 99.5}
    session.leave()


def test_the_worked_example_in_the_docs_is_right() -> None:
    text = DOCS.read_text()
    body = (
        '{"name": "shop.Order", "meta": {"event_type": "create", "verbose_name": "Order", '
        '"timestamp": "2026-01-01T12:00:00Z", "id": "order-42-create"}, '
        '"data": {"id": 42, "total": 99.5}}'
    )
    digest = signature(
        "my-shared-secret-0123456789",
        "POST",
        "/ingress/event",
        "1767268800",
        "0123456789abcdef0123456789abcdef",
        body.encode(),
    )
    assert f"   {body}\n" in text
    assert f"X-Telegraphy-Signature: v1={digest}" in text


# -- turning it on and off ----------------------------------------------------------------


def test_without_a_secret_the_ingress_is_off(tmp_path: Path) -> None:
    process = start_gateway(tmp_path, config_with_limits())
    try:
        status, answer = post(process, "/ingress/event", event(1))
        output = process.output()
    finally:
        process.stop()
    assert (status, answer["error"]) == (404, "ingress_disabled")
    assert "secret" in answer["message"]
    assert "ingress disabled" in output and "ingress refused ingress_disabled" in output


def test_ingress_configuration(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "secret": SECRET,
            "topic_prefix": "app.events",
            "ingress": {"timestamp_window": 5.5, "max_body_size": 100, "max_batch": 2},
        }
    )
    assert (config.secret, config.topic_prefix) == (SECRET, "app.events")
    assert (config.ingress.timestamp_window, config.ingress.max_body_size) == (5.5, 100)
    assert config.ingress.max_batch == 2
    assert SECRET not in repr(config)
    defaults = config_from_mapping({})
    assert (defaults.secret, defaults.topic_prefix) == (None, "telegraphy.event")
    assert (defaults.ingress.timestamp_window, defaults.ingress.max_body_size) == (60, 1 << 20)


def test_the_secret_may_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "telegraphy.toml"
    path.write_text('realm = "telegraphy"\n')
    assert load_config(path, environ={"TELEGRAPHY_SECRET": SECRET}).secret == SECRET
    assert load_config(None, environ={"TELEGRAPHY_SECRET": SECRET}).secret == SECRET
    assert load_config(path, environ={}).secret is None
    path.write_text('secret = "from-the-file-0123456789"\n')
    assert load_config(path, environ={"TELEGRAPHY_SECRET": SECRET}).secret.startswith("from")  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="TELEGRAPHY_SECRET is too short"):
        load_config(None, environ={"TELEGRAPHY_SECRET": "short"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"secret": "short"}, "secret must be a string of at least 16 characters"),
        ({"secret": 12345678901234567}, "secret must be a string"),
        ({"topic_prefix": "has space"}, "topic_prefix must be a dotted name"),
        ({"topic_prefix": "wamp.events"}, "not under 'wamp.'"),
        ({"topic_prefix": "a..b"}, "topic_prefix must be a dotted name"),
        ({"ingress": {"max_batch": 0}}, "ingress.max_batch must be a positive number"),
        ({"ingress": {"max_body_size": 1.5}}, "ingress.max_body_size must be a positive number"),
        ({"ingress": {"window": 1}}, "unknown key(s) window at [ingress]"),
        ({"ingress": 3}, "[ingress] must be a table"),
    ],
)
def test_bad_ingress_configuration_says_what_to_fix(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        config_from_mapping(data)
    assert message in str(error.value)
