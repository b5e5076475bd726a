"""The Origin check of the WebSocket upgrade: allowed origins get 101, others HTTP 403, a
request without Origin (not a browser) is let through; the default allows loopback only."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import pytest

from conftest import DEFAULT_CONFIG, module_gateway, start_gateway
from gateway_harness import GatewayProcess

gateway = module_gateway(DEFAULT_CONFIG)  # no allowed_origins: the loopback default


def upgrade_status(port: int, origin: str | None) -> int:
    """The HTTP status of a WebSocket upgrade request to /ws with this Origin header."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /ws HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: wamp.2.json",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n" not in head:
            chunk = connection.recv(1024)
            assert chunk, head
            head += chunk
    return int(head.split(b" ")[1])


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (None, 101),
        ("http://localhost:8000", 101),
        ("https://localhost", 101),
        ("http://127.0.0.1:3000", 101),
        ("http://[::1]:8080", 101),
        ("HTTP://LOCALHOST:8000", 101),
        ("https://evil.example.com", 403),
        ("http://localhost.evil.example.com", 403),
        ("http://192.168.1.10:8000", 403),
        ("null", 403),
    ],
)
def test_the_default_allows_loopback_pages_only(
    gateway: GatewayProcess, origin: str | None, status: int
) -> None:
    assert upgrade_status(gateway.port, origin) == status


def test_configured_origins_and_any_origin(tmp_path: Path) -> None:
    (tmp_path / "listed").mkdir()
    (tmp_path / "any").mkdir()
    listed = start_gateway(
        tmp_path / "listed",
        'allowed_origins = ["https://shop.example.com", "http://localhost:*"]\n' + DEFAULT_CONFIG,
    )
    anywhere = start_gateway(tmp_path / "any", 'allowed_origins = ["*"]\n' + DEFAULT_CONFIG)
    try:
        assert upgrade_status(listed.port, "https://shop.example.com") == 101
        assert upgrade_status(listed.port, "https://shop.example.com:443") == 101
        assert upgrade_status(listed.port, "http://localhost:5173") == 101
        assert upgrade_status(listed.port, None) == 101
        assert upgrade_status(listed.port, "http://shop.example.com") == 403
        assert upgrade_status(listed.port, "https://shop.example.com:8443") == 403
        assert upgrade_status(listed.port, "http://127.0.0.1:8000") == 403
        for origin in ("https://evil.example.com", "null", "http://127.0.0.1:1"):
            assert upgrade_status(anywhere.port, origin) == 101
        assert "origin http://127.0.0.1:8000 is not allowed" in listed.output()
    finally:
        listed.stop()
        anywhere.stop()
