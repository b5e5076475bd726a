"""HTTP requests are bounded before any resource sees them: headers trickled a byte at a time
or never finished get 408 after header_timeout, a body that does not arrive 408 after
body_timeout, a Content-Length over max_body_size 413 at once (on the ingress and on the
WebSocket upgrade alike), headers over max_header_size 431; each refusal is logged."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest_twisted
from raw_socket import connect, open_websocket, read_head, read_to_end, upgrade_request

from conftest import assert_gateway_serves, config_with_limits, module_gateway
from gateway_harness import WAIT, GatewayProcess, eventually

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MAX_HEADER_SIZE = 2048
MAX_BODY = 4096
CONFIG = (
    'secret = "channel-secret-0123456789abcdef"\n'
    + config_with_limits(
        header_timeout=HEADER_TIMEOUT, body_timeout=BODY_TIMEOUT, max_header_size=MAX_HEADER_SIZE
    )
    + f"\n[ingress]\nmax_body_size = {MAX_BODY}\n"
)

gateway = module_gateway(CONFIG)


def refusal(sock: socket.socket) -> tuple[int, dict[str, str], dict[str, str]]:
    """The status, headers and JSON body of the answer, read until the gateway closes."""
    response = read_to_end(sock)
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def trickle(sock: socket.socket, data: bytes, stop: threading.Event) -> None:
    """Send `data` a byte every 50 ms (a slow client, not a wait) until told or cut off."""
    for byte in data:
        if stop.wait(0.05):
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return


def test_headers_trickled_byte_by_byte_get_408_after_header_timeout(
    gateway: GatewayProcess,
) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 1000
    stop = threading.Event()
    with connect(gateway.port) as sock:
        started = time.monotonic()
        sender = threading.Thread(target=trickle, args=(sock, request, stop))
        sender.start()
        try:
            status, headers, body = refusal(sock)
        finally:
            stop.set()
            sender.join()
    assert (status, body["error"]) == (408, "header_timeout")
    assert headers["connection"] == "close"
    # Every byte arrived well within the idle timeout: only the header deadline cut it off.
    assert HEADER_TIMEOUT <= time.monotonic() - started < HEADER_TIMEOUT + WAIT / 2


def test_connection_that_sends_nothing_gets_408(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        status, _, body = refusal(sock)
    assert (status, body["error"]) == (408, "header_timeout")


def test_body_that_does_not_arrive_gets_408_after_body_timeout(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        sock.sendall(
            b"POST /ingress/event HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        status, _, body = refusal(sock)
    assert (status, body["error"]) == (408, "body_timeout")


def test_huge_content_length_on_the_ingress_gets_413_at_once(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        sock.sendall(
            b"POST /ingress/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n"
        )
        status, headers, body = refusal(sock)
    assert (status, body["error"]) == (413, "too_large")
    assert "max_body_size" in body["message"]
    assert headers["connection"] == "close"


def test_huge_content_length_on_the_websocket_upgrade_gets_413(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        sock.sendall(upgrade_request(headers="Content-Length: 10000000000\r\n"))
        status, _, body = refusal(sock)
    assert (status, body["error"]) == (413, "too_large")


def test_headers_over_max_header_size_get_431(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        # Well past the bound: the gateway answers while these are still being sent.
        for n in range(2 * MAX_HEADER_SIZE // 100):
            sock.sendall(f"X-Filler-{n}: ".encode() + b"a" * 100 + b"\r\n")
        status, _, body = refusal(sock)
    assert (status, body["error"]) == (431, "headers_too_large")


def test_one_header_line_over_max_header_size_gets_431(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nX-Long: " + b"a" * (MAX_HEADER_SIZE * 2))
        status, _, body = refusal(sock)
    assert (status, body["error"]) == (431, "headers_too_large")


def test_kept_alive_connection_serves_requests_under_the_bounds(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        for _ in range(3):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = read_head(sock)
            assert head.startswith(b"HTTP/1.1 200 "), head
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            assert json.loads(sock.recv(length))["status"] == "ok"


def test_an_open_websocket_is_not_cut_by_the_http_deadlines(gateway: GatewayProcess) -> None:
    with open_websocket(gateway.port) as sock:
        sock.settimeout(HEADER_TIMEOUT + BODY_TIMEOUT + 0.5)
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
    assert not closed


@pytest_twisted.ensureDeferred
async def test_refusals_are_logged_and_the_gateway_serves(gateway: GatewayProcess) -> None:
    await eventually(lambda: "refused (body_timeout): HTTP 408" in gateway.output())
    for reason in ("header_timeout", "too_large", "headers_too_large"):
        assert f"refused ({reason})" in gateway.output()
    await assert_gateway_serves(gateway)
