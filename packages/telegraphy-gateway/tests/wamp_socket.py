"""A blocking WAMP peer on a plain socket, for property tests that send one generated message
per connection: frames written and read by hand, any serializer, any payload."""

from __future__ import annotations

import contextlib
import json
import os
import struct
from typing import Any

import cbor2
import msgpack
from raw_socket import open_websocket

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class Closed(Exception):
    """The gateway closed the WebSocket (close frame or end of stream)."""


def encode(protocol: str, message: Any) -> bytes:
    if protocol == "wamp.2.json":
        return json.dumps(message).encode()  # NaN and Infinity included, as some clients send
    if protocol == "wamp.2.msgpack":
        return bytes(msgpack.packb(message, use_bin_type=True))
    return cbor2.dumps(message)


def decode(protocol: str, payload: bytes) -> Any:
    if protocol == "wamp.2.json":
        return json.loads(payload)
    if protocol == "wamp.2.msgpack":
        return msgpack.unpackb(payload, raw=False, strict_map_key=False)
    return cbor2.loads(payload)


class WampSocket:
    def __init__(self, port: int, protocol: str) -> None:
        self.protocol = protocol
        self.binary = protocol != "wamp.2.json"
        self.sock = open_websocket(port, protocol)

    encode_for = staticmethod(encode)

    def send(self, *message: Any) -> None:
        self.send_payload(encode(self.protocol, list(message)))

    def send_payload(self, payload: bytes) -> None:
        self.sock.sendall(_client_frame(BINARY if self.binary else TEXT, payload))

    def receive(self) -> list[Any]:
        """The next WAMP message; `Closed` once the gateway closes the WebSocket."""
        while True:
            opcode, payload = self._frame()
            if opcode == PING:
                self.sock.sendall(_client_frame(PONG, payload))
            elif opcode == CLOSE:
                self._close_back(payload)
                raise Closed(payload)
            else:
                assert opcode == (BINARY if self.binary else TEXT), opcode
                message: list[Any] = decode(self.protocol, payload)
                assert isinstance(message, list) and type(message[0]) is int, message
                return message

    def close(self) -> None:
        self.sock.close()

    def _close_back(self, payload: bytes) -> None:
        # The gateway may already have closed the TCP after its close frame.
        with contextlib.suppress(OSError):
            self.sock.sendall(_client_frame(CLOSE, payload[:2]))

    def _frame(self) -> tuple[int, bytes]:
        head = self._exactly(2)
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._exactly(8))
        return opcode, self._exactly(length)

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))  # the socket's timeout bounds the wait
            if not chunk:
                raise Closed(b"")
            data += chunk
        return data


def _client_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = bytes([0x80 | opcode, 0x80 | length])
    elif length < 1 << 16:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", length)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", length)
    key = int.from_bytes(mask * (length // 4 + 1), "big") >> (8 * (4 - length % 4))
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big") if length else b""
    return head + mask + masked
