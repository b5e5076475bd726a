"""The HTTP connection, bounded before any resource sees a request: its line and headers must
arrive within `header_timeout` and `max_header_size`, its body within `body_timeout` and
`max_body_size`, and a client address holds at most `max_connections_per_ip` of them.

Twisted resets its idle timer on every byte, so a client trickling a byte at a time, or
announcing a body it never sends, would otherwise hold a connection for ever.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure
from twisted.web.http import HTTPChannel

from .limits import Guard

if TYPE_CHECKING:
    from .http import GatewaySite

LINGER = 2.0
"""Seconds a refused connection is kept half-closed, its input dropped, before it is cut."""
_REASONS = {
    408: "Request Timeout",
    413: "Content Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
}


class GatewayChannel(HTTPChannel):
    site: GatewaySite
    _deadline: IDelayedCall | None = None
    _refused = False

    @property
    def guard(self) -> Guard:
        return self.site.guard

    def connectionMade(self) -> None:
        super().connectionMade()  # type: ignore[no-untyped-call]
        self.totalHeadersSize = self.MAX_LENGTH = self.guard.limits.max_header_size
        self._admitted = False
        # Behind a PROXY protocol load balancer, the client is named by the header that comes
        # before the first request byte: counted then.
        if not self.guard.proxy_protocol and not self._admit():
            return
        self._start_deadline(self.guard.limits.header_timeout, "header_timeout")

    def _admit(self) -> bool:
        """Count this connection against its client's max_connections_per_ip, or refuse it."""
        self._admitted = True
        peer = self.transport.getPeer().host  # type: ignore[union-attr]
        # Behind a trusted proxy every connection is the proxy's: the WebSocket counts the
        # forwarded client instead, once its headers are read.
        guard = self.guard
        if not guard.addresses.is_proxy(peer) and not guard.connections.admit(self.transport, peer):
            limit = guard.limits.max_connections_per_ip
            message = f"{peer} already holds max_connections_per_ip ({limit}) connections"
            self._refuse(429, "connections_per_ip", message, retry_after=1)
            return False
        return True

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._stop_deadline()
        self.guard.connections.release(self.transport)
        super().connectionLost(reason)  # type: ignore[no-untyped-call]

    def dataReceived(self, data: bytes) -> None:
        if not self._admitted and not self._admit():
            return
        # The first byte of a request (the next one, on a kept-alive connection) starts its clock.
        if self._deadline is None and not self._handlingRequest and not self._refused:
            self._start_deadline(self.guard.limits.header_timeout, "header_timeout")
        super().dataReceived(data)  # type: ignore[no-untyped-call]

    def lineReceived(self, line: bytes) -> None:
        if self._receivedHeaderSize + len(line) > self.totalHeadersSize:
            self.lineLengthExceeded(line)
            return
        super().lineReceived(line)  # type: ignore[no-untyped-call]

    def lineLengthExceeded(self, line: bytes) -> None:
        limit = self.totalHeadersSize
        self._refuse(431, "headers_too_large", f"request headers over max_header_size ({limit})")

    def allHeadersReceived(self) -> None:
        self._stop_deadline()
        limit = self.site.max_body_size
        if self.length is not None and self.length > limit:
            message = f"Content-Length {self.length} is over max_body_size ({limit} bytes)"
            self._refuse(413, "too_large", message)
            return
        super().allHeadersReceived()  # type: ignore[no-untyped-call]
        if self.length != 0:  # a length to read, or chunks (None)
            self._start_deadline(self.guard.limits.body_timeout, "body_timeout")

    def allContentReceived(self) -> None:
        self._stop_deadline()
        super().allContentReceived()  # type: ignore[no-untyped-call]

    # -- deadlines and refusals ------------------------------------------------------------

    def _start_deadline(self, seconds: float, reason: str) -> None:
        self._stop_deadline()
        self._deadline = self.guard.clock.callLater(seconds, self._timed_out, seconds, reason)

    def _stop_deadline(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _timed_out(self, seconds: float, reason: str) -> None:
        self._deadline = None
        part = "headers" if reason == "header_timeout" else "body"
        self._refuse(
            408, reason, f"the request's {part} did not arrive within {reason} ({seconds:g} s)"
        )

    def _refuse(
        self, status: int, reason: str, message: str, retry_after: int | None = None
    ) -> None:
        """Answer with a JSON error, log it (rate-limited), and close: nothing more is read."""
        self._refused = True
        self._stop_deadline()
        peer = cast(IPv4Address, self.transport.getPeer())  # type: ignore[union-attr]
        self.guard.refuse(
            reason,
            "HTTP {status} to {peer}: {message}",
            status=status,
            peer=f"{peer.host}:{peer.port}",
            message=message,
        )
        body = json.dumps({"error": reason, "message": message}).encode()
        head = [
            f"HTTP/1.1 {status} {_REASONS[status]}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "connection: close",
        ]
        if retry_after is not None:
            head.append(f"retry-after: {retry_after}")
        self.transport.write("\r\n".join(head).encode() + b"\r\n\r\n" + body)  # type: ignore[union-attr]
        self.dataReceived = self.lineReceived = self.rawDataReceived = _ignore  # type: ignore[method-assign,assignment]
        # Close our side only, and drop what the client still sends until it closes (or for
        # LINGER seconds): closing at once, with its bytes unread, would reset the connection
        # and could destroy the answer before the client reads it.
        transport = self.transport
        transport.loseWriteConnection()  # type: ignore[union-attr]
        self.guard.clock.callLater(LINGER, _abort_if_open, transport)


def _abort_if_open(transport: Any) -> None:
    if transport.connected:
        transport.abortConnection()


def _ignore(data: bytes) -> None:
    """What a refused connection still sends is read and dropped until it closes."""
