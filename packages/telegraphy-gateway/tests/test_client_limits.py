"""Limits per client: connections per address, WebSocket handshakes a second per address,
WAMP messages a second per browser session, ingress requests a second per address; and the
client's address taken from X-Forwarded-For only behind a trusted proxy.

Each case starts a gateway with its own small limit: 429 with Retry-After (HTTP) or ABORT
`telegraphy.error.rate_limited` (WAMP), a log line, and the gateway still serves."""

from __future__ import annotations

import json
import resource
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from ingress_posts import event
from raw_socket import connect, read_head, read_to_end, upgrade_request
from ticket_peers import SECRET
from twisted.internet.task import Clock

from conftest import assert_gateway_serves, config_with_limits, start_gateway
from gateway_harness import GatewayProcess, eventually
from raw_wamp import ABORT, PUBLISH, PUBLISHED, SUBSCRIBE, WampPeer, raw_join
from telegraphy.core import sign_request
from telegraphy.gateway import ConfigError, config_from_mapping
from telegraphy.gateway.transport.limits import (
    ClientAddresses,
    ConnectionCounter,
    RateLimiter,
    parse_networks,
)

RATE_LIMITED = "telegraphy.error.rate_limited"


@contextmanager
def gateway_with(
    tmp_path: Path, before: str = "", args: tuple[str, ...] = (), **limits: float
) -> Iterator[GatewayProcess]:
    """A gateway with these [limits] (and top-level keys `before` the tables)."""
    config = f'secret = "{SECRET}"\n{before}' + config_with_limits(**limits)
    process = start_gateway(tmp_path, config, args)
    try:
        yield process
    finally:
        process.stop()


def handshake(port: int, forwarded_for: str | None = None) -> tuple[int, bytes, socket.socket]:
    """A WebSocket upgrade: its HTTP status, response head, and the open socket."""
    sock = connect(port)
    extra = "" if forwarded_for is None else f"X-Forwarded-For: {forwarded_for}\r\n"
    sock.sendall(upgrade_request(headers=extra))
    head = read_head(sock)
    return int(head.split()[1]), head.lower(), sock


def signed_post(port: int, body: Any, forwarded_for: str | None = None) -> tuple[int, bytes]:
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_request(SECRET, "POST", "/ingress/event", raw),
    }
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        "POST /ingress/event HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Length: {len(raw)}\r\n{lines}\r\n"
    )
    with connect(port) as sock:
        sock.sendall(request.encode() + raw)
        response = read_to_end(sock)
    head, _, payload = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower() + b"\r\n\r\n" + payload


@pytest_twisted.ensureDeferred
async def test_connections_per_ip_are_limited(tmp_path: Path) -> None:
    with gateway_with(tmp_path, max_connections_per_ip=3) as gateway, ExitStack() as held:
        # A WebSocket counts as one of them, for as long as it is open.
        status, _, sock = handshake(gateway.port)
        assert status == 101
        held.enter_context(sock)
        for _ in range(2):
            held.enter_context(connect(gateway.port))
        with connect(gateway.port) as refused:
            response = read_to_end(refused)
        assert response.startswith(b"HTTP/1.1 429 "), response
        assert b"retry-after: 1" in response.lower()
        assert b'"error": "connections_per_ip"' in response

        held.close()  # every connection closed: room again
        await eventually(lambda: health_status(gateway.port) == 200)
        await assert_gateway_serves(gateway)
        assert "refused (connections_per_ip)" in gateway.output()


def health_status(port: int) -> int:
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return int(read_to_end(sock).split()[1])


def test_websocket_handshakes_per_second_per_ip_are_limited(tmp_path: Path) -> None:
    with gateway_with(tmp_path, max_handshakes_per_second=0.2) as gateway:
        answers = []
        for _ in range(5):
            status, head, sock = handshake(gateway.port)
            sock.close()
            answers.append((status, head))
        assert answers[0][0] == 101
        refused = [head for status, head in answers if status == 429]
        assert refused, answers
        assert b"retry-after: 5" in refused[0]  # a handshake every 5 s
        assert "refused (handshake_rate)" in gateway.output()


@pytest_twisted.ensureDeferred
async def test_messages_per_second_of_a_browser_session_are_limited(tmp_path: Path) -> None:
    with gateway_with(tmp_path, max_messages_per_second=5) as gateway:
        peer = await WampPeer.connect(gateway.url)
        peer.send_hello(["anonymous"])
        await peer.welcomed()
        for n in range(20):
            peer.send(SUBSCRIBE, n, {}, "telegraphy.public.news")
        while (message := await peer.receive())[0] != ABORT:
            pass
        assert message[2] == RATE_LIMITED, message
        assert "max_messages_per_second" in message[1]["message"]
        await peer.closed()

        # A backend (WAMP-CRA) is the operator's own program: not limited.
        backend = await raw_join(gateway.url, backend=True, roles={"publisher": {}})
        for n in range(20):
            backend.send(PUBLISH, n, {"acknowledge": True}, "app.busy", [n])
        for n in range(20):
            assert (await backend.expect(PUBLISHED))[1] == n
        await assert_gateway_serves(gateway)
        assert "refused (message_rate)" in gateway.output()


def test_ingress_requests_per_second_per_ip_are_limited(tmp_path: Path) -> None:
    with gateway_with(tmp_path, max_ingress_requests_per_second=0.5) as gateway:
        answers = [signed_post(gateway.port, event(n)) for n in range(6)]
        assert answers[0][0] == 200
        refused = [response for status, response in answers if status == 429]
        assert refused, answers
        head, _, body = refused[0].partition(b"\r\n\r\n")
        assert b"retry-after: " in head
        assert json.loads(body)["error"] == "rate_limited"
        assert "refused (ingress_rate)" in gateway.output()


PROXY = 'trusted_proxies = ["127.0.0.1"]\n'


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(tmp_path: Path) -> None:
    with gateway_with(tmp_path, PROXY, max_handshakes_per_second=0.2) as gateway:
        first = handshake(gateway.port, "10.0.0.1")
        other = handshake(gateway.port, "10.0.0.2")
        again = handshake(gateway.port, "10.0.0.1")
        # What the client wrote left of the proxy's entry is not believed.
        spoofed = handshake(gateway.port, "10.0.0.99, 10.0.0.2")
        statuses = [first[0], other[0], again[0], spoofed[0]]
        for _, _, sock in (first, other, again, spoofed):
            sock.close()
    assert statuses == [101, 101, 429, 429]


def test_behind_a_trusted_proxy_connections_are_counted_per_forwarded_client(
    tmp_path: Path,
) -> None:
    with gateway_with(tmp_path, PROXY, max_connections_per_ip=1) as gateway:
        first = handshake(gateway.port, "10.0.0.1")
        other = handshake(gateway.port, "10.0.0.2")
        again = handshake(gateway.port, "10.0.0.1")
        statuses = [first[0], other[0], again[0]]
        for _, _, sock in (first, other, again):
            sock.close()
    assert statuses == [101, 101, 429]


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(tmp_path: Path) -> None:
    with gateway_with(tmp_path, max_ingress_requests_per_second=0.2) as gateway:
        statuses = [signed_post(gateway.port, event(n), f"10.0.0.{n}")[0] for n in range(4)]
        output = gateway.output()
    assert statuses[0] == 200 and 429 in statuses
    # Said once, not once per request.
    assert output.count("X-Forwarded-For from 127.0.0.1 is ignored") == 1, output


# -- the same logic in process, on a fake clock ------------------------------------------


def test_rate_limiter_allows_a_burst_then_the_rate_and_forgets_idle_clients() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock)
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b")  # another address has its own bucket
    assert limiter.retry_after("a") == 1
    clock.advance(0.5)
    assert limiter.allow("a") and not limiter.allow("a")
    clock.advance(10)
    limiter.allow("c")
    assert set(limiter._buckets) == {"c"}


def test_client_address_is_the_rightmost_untrusted_hop() -> None:
    addresses = ClientAddresses(parse_networks(["10.0.0.0/8", "::1"]))
    assert addresses.client("10.1.1.1", "1.2.3.4, 5.6.7.8, 10.2.2.2") == "5.6.7.8"
    assert addresses.client("::1", "2001:db8::1") == "2001:db8::1"
    assert addresses.client("10.1.1.1", "10.2.2.2") == "10.1.1.1"  # all hops trusted
    assert addresses.client("10.1.1.1", "1.2.3.4, bogus") == "10.1.1.1"
    assert addresses.client("192.0.2.1", "1.2.3.4") == "192.0.2.1"  # not a proxy
    assert addresses.client("::ffff:10.1.1.1", "1.2.3.4") == "1.2.3.4"  # IPv4 on "::"


def test_connection_counter_counts_each_holder_once() -> None:
    counter = ConnectionCounter(2)
    first, second, third = object(), object(), object()
    assert counter.admit(first, "a") and counter.admit(first, "a")
    assert counter.admit(second, "a") and not counter.admit(third, "a")
    counter.release(first)
    counter.release(first)
    assert counter.count("a") == 1 and counter.admit(third, "a")


def open_files_limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


@pytest_twisted.ensureDeferred
async def test_running_out_of_file_descriptors_logs_one_line_not_one_per_connection(
    tmp_path: Path,
) -> None:
    config = '[engine]\nkind = "memory"\n'
    gateway = start_gateway(tmp_path, config, preexec_fn=lambda: open_files_limit(48))
    try:
        with ExitStack() as held:
            for _ in range(80):
                held.enter_context(socket.create_connection(("127.0.0.1", gateway.port), timeout=5))
            await eventually(lambda: "refused (accept_error)" in gateway.output())
        output = gateway.output()
    finally:
        gateway.stop()
    assert "EMFILE" in output
    assert output.count("refused (accept_error)") == 1, output
    assert "Closed socket from" not in output, output


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"trusted_proxies": "10.0.0.1"}, "trusted_proxies must be an array of addresses"),
        ({"trusted_proxies": ["nginx"]}, "trusted_proxies: 'nginx' is not an IP address"),
        ({"limits": {"max_connections_per_ip": 0}}, "limits.max_connections_per_ip must be a pos"),
        ({"limits": {"max_connections_per_ip": 1.5}}, "limits.max_connections_per_ip must be a"),
        ({"limits": {"max_messages_per_second": -1}}, "limits.max_messages_per_second must be a"),
        ({"limits": {"header_timeout": "10s"}}, "limits.header_timeout must be a positive"),
        ({"limits": {"max_header_size": 0}}, "limits.max_header_size must be a positive"),
    ],
)
def test_bad_limits_say_what_to_fix(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_mapping(data)
    assert message in str(raised.value)


def test_limits_have_safe_defaults_and_take_what_is_given() -> None:
    limits = config_from_mapping({}).limits
    assert (limits.max_connections_per_ip, limits.max_handshakes_per_second) == (1000, 100)
    assert (limits.max_messages_per_second, limits.max_ingress_requests_per_second) == (1000, 1000)
    assert (limits.header_timeout, limits.body_timeout, limits.max_header_size) == (10, 30, 16384)
    given = config_from_mapping(
        {"trusted_proxies": ["10.0.0.0/8", "::1"], "limits": {"max_handshakes_per_second": 2.5}}
    )
    assert given.trusted_proxies == ("10.0.0.0/8", "::1")
    assert given.limits.max_handshakes_per_second == 2.5


def test_refusals_in_json_logs_carry_the_reason_as_a_key(tmp_path: Path) -> None:
    args = ("--log-format", "json")
    with gateway_with(tmp_path, args=args, max_handshakes_per_second=0.2) as gateway:
        statuses = []
        for _ in range(3):
            status, _, sock = handshake(gateway.port)
            sock.close()
            statuses.append(status)
        output = gateway.output()
    assert 429 in statuses
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    refusals = [e for e in events if e.get("reason") == "handshake_rate"]
    assert refusals, output
    assert refusals[0]["log_level"]["name"] == "warn"
    assert refusals[0]["refused_since_last"] == 0
