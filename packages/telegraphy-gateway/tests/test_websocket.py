"""The WebSocket layer below WAMP: a client's invalid close frame is answered with the
RFC 6455 close (1002 protocol error, 1007 invalid payload), written before the TCP closes."""

from __future__ import annotations

import pytest
from raw_socket import (
    CLOSE,
    client_frame,
    close_payload,
    open_websocket,
    read_to_end,
    server_close,
)

from conftest import DEFAULT_CONFIG, module_gateway
from gateway_harness import GatewayProcess

gateway = module_gateway(DEFAULT_CONFIG)

INVALID_CLOSE_FRAMES = {
    "code-999": (close_payload(999), 1002),
    "code-1005": (close_payload(1005), 1002),
    "code-5000": (close_payload(5000), 1002),
    "one-byte-payload": (b"\x03", 1002),
    "reason-not-utf8": (close_payload(1000, b"\xff\xfe"), 1007),
}


@pytest.mark.parametrize(
    ("payload", "expected"), INVALID_CLOSE_FRAMES.values(), ids=INVALID_CLOSE_FRAMES.keys()
)
def test_invalid_close_frame_is_answered_with_its_close_code(
    gateway: GatewayProcess, payload: bytes, expected: int
) -> None:
    with open_websocket(gateway.port) as sock:
        sock.sendall(client_frame(CLOSE, payload))
        code, reason = server_close(read_to_end(sock))
    assert code == expected
    assert reason.decode()  # says what was wrong


def test_valid_close_frame_is_echoed(gateway: GatewayProcess) -> None:
    with open_websocket(gateway.port) as sock:
        sock.sendall(client_frame(CLOSE, close_payload(1000, b"bye")))
        code, _ = server_close(read_to_end(sock))
    assert code == 1000
