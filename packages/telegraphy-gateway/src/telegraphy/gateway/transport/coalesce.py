"""Frames written to a connection during one reactor turn leave in one send, at the turn's end.

Twisted's own path costs, for every frame to every connection: a write (buffer, register the
socket for writing: an epoll_ctl), a poll that reports it writable, a dispatch through the
logging context, the send, and an epoll_ctl to unregister it. With thousands of sessions
receiving a few events a second each, that was most of the gateway's CPU (the soak bench:
32 us per delivered event at 3,000 sessions, of which the fan-out itself was a sixth).

Here a connection's frames wait in a list until the end of the turn (one `callLater(0)` for
all connections), then go out joined in one `send` straight to the socket when Twisted holds
nothing for it. Whatever the socket does not take (its buffer is full, or the send failed) is
handed to Twisted's `write`, which buffers it, pauses the producer past its threshold and
reports a broken connection as it always did; order is kept because the direct send only
happens while Twisted's buffers are empty. TLS and wrapped transports (PROXY protocol) get
the coalescing without the direct send.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Protocol

from twisted.internet import tcp
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

log = Logger()


class Coalescing(Protocol):
    def flush(self) -> None: ...


class TurnFlusher:
    """The connections with frames waiting, flushed together once per reactor turn."""

    def __init__(self, clock: IReactorTime, sent: Callable[[], None] = lambda: None) -> None:
        self._clock = clock
        self._sent = sent  # told after each flush (the delivery latency is observed then)
        self._waiting: list[Coalescing] = []

    def add(self, connection: Coalescing) -> None:
        """`connection` has its first frame of this turn waiting."""
        if not self._waiting:
            self._clock.callLater(0, self._flush)
        self._waiting.append(connection)

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        for connection in waiting:
            try:
                connection.flush()
            except Exception:  # a bug: the other connections' frames still leave
                log.failure("sending a connection's frames failed", event="connection.flush_failed")
        self._sent()


def direct_socket(transport: object) -> socket.socket | None:
    """The socket under `transport` when frames may be sent on it directly: a plain TCP
    connection of Twisted's (not TLS, not wrapped) with the buffers this module checks."""
    if (
        isinstance(transport, tcp.Connection)
        and not getattr(transport, "TLS", False)
        and hasattr(transport, "_tempDataLen")
        and isinstance(getattr(transport, "dataBuffer", None), bytes)
    ):
        return transport.socket
    return None


def send(transport: tcp.Connection, sock: socket.socket | None, data: bytes) -> None:
    """Write `data` to `transport`: straight to `sock` while Twisted has nothing queued for
    it, the rest (or all, without `sock`) through Twisted."""
    if (
        sock is not None
        and not transport.dataBuffer
        and not transport._tempDataLen
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
    ):
        try:
            sent = sock.send(data)
        except OSError:  # full (EAGAIN) or broken: Twisted's write will tell which
            sent = 0
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)
