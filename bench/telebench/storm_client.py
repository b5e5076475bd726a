"""A minimal WAMP-over-WebSocket client on asyncio for the reconnect storm: hand-written
framing (as the C generator's), JSON parsed only where a figure needs it.

The C load generator counts EVENT frames without parsing them and does not speak the
`recover` option; these clients do: each keeps the last position (offset, epoch) it saw and
sends it back when it resubscribes. The recovered events themselves are counted by a byte
search for `"recovered":true` rather than parsed, so that the client stays cheap.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Sequence
from typing import Any

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE = 1, 2, 3, 4, 5
ERROR, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT = 8, 16, 17, 32, 33, 36
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA
_ZERO_MASK = b"\x00\x00\x00\x00"  # a valid masking key; masking with it is the identity
_RECOVERED = b'"recovered":true'
_REPORT = b'"recovery":'


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return header + _ZERO_MASK + payload


def _text(message: list[Any]) -> bytes:
    return _frame(_TEXT, json.dumps(message, separators=(",", ":")).encode())


class WampProtocol(asyncio.Protocol):
    """One WebSocket connection speaking wamp.2.json; subclasses handle the messages."""

    def __init__(self, host: str, port: int, path: str, realm: str) -> None:
        self._host, self._port, self._path, self._realm = host, port, path, realm
        self._buffer = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self.failure: str | None = None
        # True when the caller connected the socket and sent the upgrade request itself.
        self.requested = False

    # WebSocket

    def upgrade_request(self) -> bytes:
        return (
            f"GET {self._path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGVsZWdyYXBoeS1iZW5jaA==\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
        ).encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if not self.requested:
            transport.write(self.upgrade_request())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self.fail(f"upgrade refused: {status.decode(errors='replace')}")
                return
            self._upgraded = True
            self.on_open()
        position, available = 0, len(buffer)
        while available - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if available - position < 4:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 4], "big"), 4
            elif length == 127:
                if available - position < 10:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 10], "big"), 10
            if second & 0x80:
                header += 4  # a server never masks; tolerated, not unmasked (never seen)
            end = position + header + length
            if end > available:
                break
            payload = bytes(buffer[position + header : end])
            position = end
            opcode = first & 0x0F
            if opcode == _TEXT and first & 0x80:
                self.on_message(payload)
            elif opcode == _PING:
                self.write_frame(_frame(_PONG, payload))
            elif opcode == _CLOSE:
                self.write_frame(_frame(_CLOSE, payload[:2]))
                self.abort()
                break
            else:
                self.fail(f"unexpected WebSocket frame (opcode {opcode}, fin {first >> 7})")
                break
            if self.transport is None:
                break
        del buffer[:position]

    def write_frame(self, frame: bytes) -> None:
        if self.transport is not None:
            self.transport.write(frame)

    def send(self, message: list[Any]) -> None:
        self.write_frame(_text(message))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
        self.abort()

    # WAMP

    def on_open(self) -> None:
        raise NotImplementedError

    def on_message(self, payload: bytes) -> None:
        raise NotImplementedError


class Subscriber(WampProtocol):
    """An anonymous session subscribing to one topic, with `recover` when it has a position.

    `expected` recovered events (and the recovery report) make it complete; without a
    position, SUBSCRIBED does."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        realm: str,
        topic: str,
        recover: dict[str, Any] | None,
        expected: int,
        started: float,
    ) -> None:
        super().__init__(host, port, path, realm)
        self._topic = topic
        self._recover = recover
        self._expected = expected
        self.started = started
        self.live = 0
        self.recovered = 0
        self.last_position: dict[str, Any] | None = None
        self.report: list[dict[str, Any]] | None = None
        self.connected_s: float | None = None
        self.upgraded_s: float | None = None
        self.welcomed_s: float | None = None
        self.subscribed_s: float | None = None
        self.done_s: float | None = None
        self.done = asyncio.get_running_loop().create_future()
        # False: live events are only counted, as recovered ones are (the generator's floor).
        self.keep_positions = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.connected_s is None:
            self.connected_s = time.monotonic() - self.started
        super().connection_made(transport)

    def on_open(self) -> None:
        self.upgraded_s = time.monotonic() - self.started
        self.send([HELLO, self._realm, {"roles": {"subscriber": {}}, "authmethods": ["anonymous"]}])

    def _complete(self) -> None:
        if not self.done.done():
            self.done_s = time.monotonic() - self.started
            self.done.set_result(None)

    def fail(self, reason: str) -> None:
        super().fail(reason)
        if not self.done.done():
            self.done.set_exception(RuntimeError(reason))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self.done.done():
            self.done.set_exception(RuntimeError(self.failure or "connection lost"))

    def on_message(self, payload: bytes) -> None:
        if payload.startswith(b"[36,"):
            if _RECOVERED in payload:
                self.recovered += 1
            elif _REPORT in payload:
                self.report = json.loads(payload)[3]["recovery"]
                if self.recovered >= self._expected:
                    self._complete()
                else:
                    self.fail(f"recovery report after {self.recovered} events: {self.report}")
            else:
                self.live += 1
                if self.keep_positions:
                    details = json.loads(payload)[3]
                    self.last_position = {"offset": details["offset"], "epoch": details["epoch"]}
            return
        message = json.loads(payload)
        kind = message[0]
        if kind == WELCOME:
            self.welcomed_s = time.monotonic() - self.started
            options: dict[str, Any] = {}
            if self._recover is not None:
                options["recover"] = {"positions": {self._topic: self._recover}}
            self.send([SUBSCRIBE, 1, options, self._topic])
        elif kind == SUBSCRIBED:
            self.subscribed_s = time.monotonic() - self.started
            if self._recover is None:
                self._complete()
        else:
            self.fail(f"unexpected message: {payload[:300]!r}")


class Publisher(WampProtocol):
    """A WAMP-CRA session publishing with `acknowledge: true`."""

    def __init__(
        self, host: str, port: int, path: str, realm: str, authid: str, secret: str
    ) -> None:
        super().__init__(host, port, path, realm)
        self._authid, self._secret = authid, secret
        self.ready = asyncio.get_running_loop().create_future()
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._next_request = 1

    def on_open(self) -> None:
        details = {"roles": {"publisher": {}}, "authmethods": ["wampcra"], "authid": self._authid}
        self.send([HELLO, self._realm, details])

    def on_message(self, payload: bytes) -> None:
        message = json.loads(payload)
        kind = message[0]
        if kind == CHALLENGE:
            challenge = message[2]["challenge"].encode()
            digest = hmac.new(self._secret.encode(), challenge, hashlib.sha256).digest()
            self.send([AUTHENTICATE, base64.b64encode(digest).decode(), {}])
        elif kind == WELCOME:
            self.ready.set_result(None)
        elif kind == PUBLISHED:
            self._pending.pop(message[1]).set_result(None)
        elif kind == ERROR and message[2] in self._pending:
            self._pending.pop(message[2]).set_exception(RuntimeError(f"publish: {message}"))
        else:
            self.fail(f"publisher: unexpected message {payload[:300]!r}")
            if not self.ready.done():
                self.ready.set_exception(RuntimeError(self.failure or "publisher failed"))

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        for future in [self.ready, *self._pending.values()]:
            if not future.done():
                future.set_exception(RuntimeError(self.failure or "publisher connection lost"))

    def publish(self, topic: str, kwargs: dict[str, Any]) -> asyncio.Future[None]:
        request, self._next_request = self._next_request, self._next_request + 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        self.send([PUBLISH, request, {"acknowledge": True}, topic, [], kwargs])
        return future


async def open_at_once(protocols: Sequence[WampProtocol], host: str, port: int) -> None:
    """Connects every protocol and sends its upgrade request before any reply is read: the
    storm reaches the router within a few milliseconds per hundred clients, instead of at the
    pace of asyncio's create_connection (about 0.3 ms of this process's CPU per client).

    The connects block: on loopback the handshake completes inside connect() as long as the
    router's accept queue has room (the gateway listens with a backlog of 1024); otherwise
    the kernel's SYN retry (1 s) shows in the figure, as it would for real clients."""
    loop = asyncio.get_running_loop()
    sockets = []
    for protocol in protocols:
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(protocol.upgrade_request())
        sock.setblocking(False)
        protocol.requested = True
        if isinstance(protocol, Subscriber):
            protocol.connected_s = time.monotonic() - protocol.started
        sockets.append(sock)
    await asyncio.gather(
        *(
            loop.create_connection(lambda p=protocol: p, sock=sock)  # type: ignore[misc]
            for protocol, sock in zip(protocols, sockets, strict=True)
        )
    )
