"""The HTTP and XML-RPC transports against a signature-checking ingress on a real socket."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from ingress_fake import Answer, FakeIngress
from telegraphy.core import EventError, RejectedError, Settings, TransportError
from telegraphy.core._settings import TRANSPORTS as TRANSPORT_CHOICES
from telegraphy.core.transports import TRANSPORTS, HttpTransport, XmlRpcTransport
from telegraphy.core.transports._xmlrpc import _fault_error

MakeSettings = Callable[..., Settings]
MakeEnvelope = Callable[..., dict[str, Any]]
T = TypeVar("T", HttpTransport, XmlRpcTransport)


@pytest.fixture
def opened() -> Iterator[Callable[[T], T]]:
    """Closes the transports a test opened: no socket outlives its test."""
    made: list[HttpTransport | XmlRpcTransport] = []

    def keep(transport: T) -> T:
        made.append(transport)
        return transport

    yield keep
    for transport in made:
        transport.close()


def test_every_transport_setting_has_a_transport() -> None:
    assert set(TRANSPORTS) == set(TRANSPORT_CHOICES)


def test_http_delivers_signed_batches_in_order_on_one_connection(
    opened: Any, ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    transport = opened(HttpTransport(make_settings(ingress.url)))
    batches = [[make_envelope(n) for n in range(i, i + 3)] for i in (0, 3, 6)]
    for batch in batches:
        transport.deliver(batch)
    assert [e["data"]["n"] for e in ingress.received] == list(range(9))
    assert len(ingress.connections) == 1  # keep-alive: every batch on the same connection
    transport.close()
    transport.deliver([make_envelope(9)])  # reconnects after close
    assert len(ingress.connections) == 2 and len(ingress.received) == 10


@pytest.mark.parametrize(
    ("answer", "misconfigured"),
    [
        (Answer(503), False),
        (Answer(429, {"error": "busy", "message": "later"}), False),
        (Answer(401, {"error": "replayed_nonce", "message": "seen"}), False),
        (Answer(401, {"error": "bad_signature", "message": "no match"}), True),
        (Answer(401, {"error": "stale_timestamp", "message": "clock"}), True),
        (Answer(404, {"error": "ingress_disabled", "message": "no secret"}), True),
    ],
)
def test_http_failures_that_keep_the_events(
    opened: Any,
    ingress: FakeIngress,
    make_settings: MakeSettings,
    make_envelope: MakeEnvelope,
    answer: Answer,
    misconfigured: bool,
) -> None:
    ingress.script.append(answer)
    transport = opened(HttpTransport(make_settings(ingress.url)))
    with pytest.raises(TransportError) as caught:
        transport.deliver([make_envelope(1)])
    assert caught.value.misconfigured is misconfigured
    assert str(answer.status) in str(caught.value)
    transport.deliver([make_envelope(2)])  # the same transport works once the gateway does
    assert [e["data"]["n"] for e in ingress.received] == [2]


def test_http_refusals_of_the_events_themselves(
    opened: Any, ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    transport = opened(HttpTransport(make_settings(ingress.url)))
    ingress.refuse = lambda e: "n must be even" if e["data"]["n"] % 2 else None
    with pytest.raises(RejectedError) as caught:
        transport.deliver([make_envelope(0), make_envelope(1)])
    assert caught.value.index == 1 and "n must be even" in str(caught.value)
    ingress.script.append(Answer(413, {"error": "too_large", "message": "smaller"}))
    with pytest.raises(RejectedError) as caught:
        transport.deliver([make_envelope(2)])
    assert caught.value.index is None
    with pytest.raises(RejectedError, match="JSON"):
        transport.deliver([make_envelope(4, when=object())])
    assert ingress.received == []


def test_http_wrong_secret_is_a_loud_failure(
    opened: Any, ingress: FakeIngress, make_envelope: MakeEnvelope
) -> None:
    transport = opened(
        HttpTransport(Settings(secret="another-secret-0123456789", gateway_url=ingress.url))
    )
    with pytest.raises(TransportError, match="bad_signature") as caught:
        transport.deliver([make_envelope(1)])
    assert caught.value.misconfigured


def test_http_unreachable_and_hanging_gateways_fail_within_the_timeout(
    opened: Any,
    closed_port: int,
    hanging_url: str,
    make_settings: MakeSettings,
    make_envelope: MakeEnvelope,
) -> None:
    refused = opened(HttpTransport(make_settings(f"http://127.0.0.1:{closed_port}")))
    with pytest.raises(TransportError, match="cannot reach") as caught:
        refused.deliver([make_envelope(1)])
    assert not caught.value.misconfigured
    hanging = opened(HttpTransport(make_settings(hanging_url, timeout=0.2)))
    with pytest.raises(TransportError, match="timed out"):
        hanging.deliver([make_envelope(1)])


def test_http_path_prefix_of_the_gateway_url_is_kept_and_signed(
    opened: Any, ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    transport = opened(HttpTransport(make_settings(ingress.url + "/behind/proxy")))
    with pytest.raises(RejectedError):  # the fake serves only /ingress/*: 'events' is missing
        ingress.script.append(Answer(400, {"error": "invalid_json", "message": "x"}))
        transport.deliver([make_envelope(1)])
    assert ingress.requests == 1  # signed over /behind/proxy/ingress/events, accepted as such


def test_xmlrpc_signs_the_path_prefix_of_the_gateway_url(
    opened: Any, ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    url = ingress.url + "/behind/proxy"
    transport = opened(XmlRpcTransport(make_settings(url, transport="xmlrpc")))
    transport.deliver([make_envelope(7)])  # the fake checks the signature over the path it got
    assert [e["data"]["n"] for e in ingress.received] == [7]


def test_xmlrpc_delivers_signed_batches(
    opened: Any, ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    transport = opened(XmlRpcTransport(make_settings(ingress.url, transport="xmlrpc")))
    with_none = make_envelope(2)
    with_none["meta"]["verbose_name"] = None
    transport.deliver([make_envelope(0), make_envelope(1)])
    transport.deliver([with_none])
    assert [e["data"]["n"] for e in ingress.received] == [0, 1, 2]
    assert ingress.received[2]["meta"]["verbose_name"] is None
    assert len(ingress.connections) == 1


def test_xmlrpc_failures_and_refusals(
    opened: Any, ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    transport = opened(XmlRpcTransport(make_settings(ingress.url, transport="xmlrpc")))
    ingress.refuse = lambda e: "n must be even" if e["data"]["n"] % 2 else None
    with pytest.raises(RejectedError, match="n must be even"):
        transport.deliver([make_envelope(1)])
    ingress.script.append(Answer(503))
    with pytest.raises(TransportError) as caught:
        transport.deliver([make_envelope(2)])
    assert not caught.value.misconfigured
    wrong = opened(
        XmlRpcTransport(Settings(secret="another-secret-0123456789", gateway_url=ingress.url))
    )
    with pytest.raises(TransportError) as caught:
        wrong.deliver([make_envelope(4)])
    assert caught.value.misconfigured and "401" in str(caught.value)
    transport.deliver([make_envelope(6)])
    assert [e["data"]["n"] for e in ingress.received] == [6]


def test_xmlrpc_refuses_integers_beyond_32_bits_before_queueing(
    opened: Any, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    transport = opened(XmlRpcTransport(make_settings("http://127.0.0.1:9", transport="xmlrpc")))
    transport.check(make_envelope(2**31 - 1, nested=[{"x": -(2**31)}]))
    with pytest.raises(EventError, match="32-bit"):
        transport.check(make_envelope(1, nested=[{"x": 2**31}]))
    opened(HttpTransport(make_settings("http://127.0.0.1:9"))).check(make_envelope(2**40))


@pytest.mark.parametrize(
    ("code", "kind", "misconfigured"),
    [
        (503, TransportError, False),  # the gateway cannot keep events now, or is stopping
        (429, TransportError, False),
        (404, TransportError, True),
        (422, RejectedError, None),
    ],
)
def test_xmlrpc_faults_that_pass_are_retried_quietly(
    code: int, kind: type[Exception], misconfigured: bool | None
) -> None:
    error = _fault_error(xmlrpc.client.Fault(code, "why"))
    assert type(error) is kind
    assert getattr(error, "misconfigured", None) is misconfigured
