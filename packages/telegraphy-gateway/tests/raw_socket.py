"""A client on a plain socket, for what no HTTP or WebSocket library will send: invalid close
frames, headers trickled a byte at a time, bodies announced and never sent."""

from __future__ import annotations

import base64
import os
import socket
import struct

from gateway_harness import WAIT

CLOSE = 0x8


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def upgrade_request(protocol: str = "wamp.2.json", headers: str = "") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {protocol}\r\n{headers}\r\n"
    ).encode()


def open_websocket(port: int, protocol: str = "wamp.2.json") -> socket.socket:
    """A socket past the opening handshake (101 read, nothing more)."""
    sock = connect(port)
    sock.sendall(upgrade_request(protocol))
    head = read_head(sock)
    assert head.startswith(b"HTTP/1.1 101 "), head
    return sock


def read_head(sock: socket.socket) -> bytes:
    """An HTTP response's status line and headers, read a byte at a time (nothing past them)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise ConnectionError(f"closed after {head!r}")
        head += byte
    return head


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server writes until it closes; a reset raises ConnectionResetError."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked frame (clients must mask) with a payload under 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def server_close(frames: bytes) -> tuple[int, bytes]:
    """The code and reason of the close frame `frames` ends with (server frames are unmasked)."""
    assert frames[0] == 0x80 | CLOSE, frames
    length = frames[1]
    payload = frames[2 : 2 + length]
    (code,) = struct.unpack("!H", payload[:2])
    return code, payload[2:]
