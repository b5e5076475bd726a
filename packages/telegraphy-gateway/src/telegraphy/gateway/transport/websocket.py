"""WAMP over WebSocket: subprotocol negotiation, frames in and out, and output flow control.

The connection registers itself as a push producer on its TCP transport, so Twisted tells it
when the socket's buffer is full. While paused it counts what it still writes; past the
configured limit the session is closed as a slow consumer instead of growing without bound.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, cast

from autobahn.exception import Disconnected
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.wamp.exception import ProtocolError
from autobahn.wamp.message import Abort, Publish
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet import reactor, tcp
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from ..config import BROWSER_ROLES
from ..errors import RateLimited
from ..session import Session
from ..wire import CODECS, Codec
from .coalesce import TurnFlusher, direct_socket, send
from .limits import Guard, TokenBucket
from .origins import OriginPolicy

if TYPE_CHECKING:
    from ..router.realm import Realm

log = Logger()

SLOW_CONSUMER = "telegraphy.error.slow_consumer"
SLOW_CONSUMER_CLOSE = 4008
"""WebSocket close code (private range) for a slow consumer; 1008 is reserved to the stack."""


@implementer(IPushProducer)
class WampWebSocketProtocol(WebSocketServerProtocol):
    factory: WampWebSocketFactory
    codec: Codec
    session: Session | None = None
    _in_close_frame = False
    _retry_after = 1  # seconds, for a handshake refused with 429
    _drop_timer: IDelayedCall | None = None
    # Messages a browser session (or one still joining) may still send this second.
    _allowance: TokenBucket | None = None
    # Messages written to the peer, for /metrics: one addition per write (measured at about
    # 25 ns; counting bytes as well doubled the cost of a write before the socket's).
    sent_messages = 0
    # Frames of this reactor turn, sent together at its end (coalesce.py).
    _waiting: list[bytes] | None = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self.factory.connections.add(self)

    def connectionLost(self, reason: Any = None) -> None:
        if self in self.factory.connections:
            self.factory.connections.discard(self)
            self.factory.closed_sent += self.sent_messages
        self.factory.guard.connections.release(self.transport)
        if self._drop_timer is not None and self._drop_timer.active():
            self._drop_timer.cancel()
        super().connectionLost(reason)

    def onConnect(self, request: ConnectionRequest) -> str:
        self._admit(request)
        # autobahn gives "" when the request has no Origin header.
        if not self.factory.origins.allows(request.origin or None):
            log.info(
                "refused a WebSocket from {peer}: origin {origin} is not allowed",
                peer=request.peer,
                origin=request.origin,
                event="websocket.origin_refused",
            )
            raise ConnectionDeny(
                ConnectionDeny.FORBIDDEN,
                f"origin {request.origin} is not allowed (allowed_origins in the configuration)",
            )
        subprotocol: str
        for subprotocol in request.protocols:
            if subprotocol in CODECS:
                self.codec = CODECS[subprotocol]
                self._peer_address = request.peer
                self._headers = request.headers
                return subprotocol
        offered = ", ".join(request.protocols) or "none"
        raise ConnectionDeny(
            ConnectionDeny.BAD_REQUEST,
            f"no supported WAMP subprotocol offered ({offered}); use one of " + ", ".join(CODECS),
        )

    def _admit(self, request: ConnectionRequest) -> None:
        """Refuse (429) a client over its handshake rate or, behind a trusted proxy, over its
        connections (without a proxy, the HTTP channel counted the connection already)."""
        guard = self.factory.guard
        peer = cast(IPv4Address, cast(tcp.Connection, self.transport).getPeer()).host
        client = guard.addresses.client(peer, request.headers.get("x-forwarded-for"))
        if guard.addresses.is_proxy(peer) and not guard.connections.admit(self.transport, client):
            limit = guard.limits.max_connections_per_ip
            self._deny("connections_per_ip", f"{client} already holds {limit} connections", 1)
        if not guard.handshakes.allow(client):
            rate = guard.limits.max_handshakes_per_second
            wait = guard.handshakes.retry_after(client)
            self._deny("handshake_rate", f"{client} is over {rate:g} handshakes a second", wait)

    def _deny(self, reason: str, message: str, retry_after: int) -> None:
        self.factory.guard.refuse(reason, "WebSocket handshake: {message}", message=message)
        self._retry_after = retry_after
        raise ConnectionDeny(429, f"{message}; retry later")

    def failHandshake(
        self, reason: str, code: int = 400, responseHeaders: list[tuple[str, str]] | None = None
    ) -> None:
        headers = list(responseHeaders or [])
        if code == 429:
            headers.append(("Retry-After", str(self._retry_after)))
        super().failHandshake(reason, code, headers)

    def onOpen(self) -> None:
        self._paused = False
        self._paused_bytes = 0
        self._dead = False
        self._tcp = cast(tcp.Connection, self.transport)
        self._socket = direct_socket(self._tcp)
        self._waiting = []
        # Twisted Web registered its HTTP channel as the producer; the WebSocket took over.
        if self._tcp.producer is not None:
            self._tcp.unregisterProducer()
        self._tcp.registerProducer(self, True)
        self.session = Session(self, self.factory.realm)
        self._allowance = TokenBucket(self.factory.message_burst, self.factory.clock.seconds())
        self._hello_timer = self.factory.clock.callLater(
            self.factory.realm.limits.hello_timeout, self._hello_timed_out
        )

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        session = self.session
        assert session is not None
        allowance = self._allowance
        factory = self.factory
        if allowance is not None and not allowance.take(
            factory.clock.seconds(), factory.message_rate, factory.message_burst
        ):
            self._over_message_rate(session)
            return
        try:
            messages = self.codec.decode(payload, isBinary)
        except ProtocolError as e:
            session.on_protocol_error(str(e))
            return
        for message, raw in messages:
            if type(message) is Publish:
                factory.publications_received += 1
            session.on_message(message, raw)
        if self._hello_timer.active() and not session.joining:
            self._hello_timer.cancel()
            if session.authrole not in BROWSER_ROLES:
                self._allowance = None  # a backend: the operator's own program

    def onCloseFrame(self, code: int, reasonRaw: bytes) -> bool | None:
        # A close frame that breaks RFC 6455 (code 999 or 1005, a 1-byte payload, a reason that
        # is not UTF-8) makes autobahn write its 1002/1007 close and then abort the TCP, which
        # discards that close unsent: the peer sees a reset. Close the TCP after the write.
        self._in_close_frame = True
        try:
            return super().onCloseFrame(code, reasonRaw)
        finally:
            self._in_close_frame = False

    def dropConnection(self, abort: bool = False) -> None:
        flush = abort and self._in_close_frame
        super().dropConnection(abort=abort and not flush)
        if flush:
            # A peer that answers with a close frame but no longer reads cannot hold it open.
            self._drop_timer = self.factory.clock.callLater(self.factory.close_grace, self._abort)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        timer = getattr(self, "_hello_timer", None)
        if timer is not None and timer.active():
            timer.cancel()
        if self.session is not None:
            self.session.on_transport_closed()

    # -- what the session sees (session.Transport) -----------------------------------------

    def send_frame(self, frame: bytes) -> None:
        if self._dead:
            return
        self.sent_messages += 1
        if self._paused:
            self._paused_bytes += len(frame)
            if self._paused_bytes > self.factory.realm.limits.max_output_buffer:
                self._dead = True
                self.factory.clock.callLater(0, self._cut_slow_consumer)
                return
        waiting = self._waiting
        assert waiting is not None  # open
        if not waiting:
            self.factory.flusher.add(self)
        waiting.append(frame)

    def flush(self) -> None:
        """Send the frames of this turn (TurnFlusher calls it at the turn's end)."""
        waiting = self._waiting
        if waiting:
            self._waiting = []
            data = waiting[0] if len(waiting) == 1 else b"".join(waiting)
            send(self._tcp, self._socket, data)

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        # Every frame of autobahn's own (close, ping, pong) comes here: after those waiting.
        self.flush()
        super().sendData(data, sync, chopsize)

    def close(self, code: int, reason: str) -> None:
        self._dead = True
        with contextlib.suppress(Disconnected):
            self.sendClose(code, reason[:120])

    def details(self) -> dict[str, Any]:
        return {
            "type": "websocket",
            "protocol": self.codec.subprotocol,
            "peer": self._peer_address,
            "http_headers_received": {
                k: v for k, v in self._headers.items() if k in ("user-agent", "origin")
            },
        }

    # -- IPushProducer: Twisted's signal that the socket's send buffer is full ------------

    def pauseProducing(self) -> None:
        # Twisted calls this on every write while its buffer is over the threshold.
        if not self._paused:
            self._paused = True
            self._paused_bytes = 0

    def resumeProducing(self) -> None:
        self._paused = False

    def stopProducing(self) -> None:
        self._dead = True

    # -- failures --------------------------------------------------------------------------

    def _cut_slow_consumer(self) -> None:
        limit = self.factory.realm.limits.max_output_buffer
        message = f"output buffer limit of {limit} bytes exceeded: the client reads too slowly"
        self.factory.slow_consumers_cut += 1
        self._waiting = []  # it cannot take them: the ABORT goes behind what it has
        self._tcp.write(self.codec.frame(Abort(SLOW_CONSUMER, message)))
        if self.session is not None:
            self.session.kill(SLOW_CONSUMER_CLOSE, message)
        # Whatever is still queued may never drain; do not wait for it.
        self.factory.clock.callLater(self.factory.close_grace, self._abort)

    def abort(self) -> None:
        """Drop the connection now, whatever is still queued for it."""
        self._tcp.abortConnection()

    def _abort(self) -> None:
        if self._tcp.connected:
            self._tcp.abortConnection()

    def _over_message_rate(self, session: Session) -> None:
        rate = self.factory.message_rate
        message = f"over max_messages_per_second ({rate:g} messages a second)"
        self.factory.guard.refuse(
            "message_rate",
            "session {session} ({peer}): {message}",
            session=session.id,
            peer=self._peer_address,
            message=message,
        )
        self._allowance = None
        session.abort(RateLimited.uri, message)

    def _hello_timed_out(self) -> None:
        if self.session is not None and self.session.joining:
            self.session.on_protocol_error("the opening handshake did not finish in hello_timeout")


class WampWebSocketFactory(WebSocketServerFactory):
    protocol = WampWebSocketProtocol  # type: ignore[assignment]  # autobahn's own protocol API

    def __init__(
        self, realm: Realm, clock: IReactorTime = reactor, guard: Guard | None = None
    ) -> None:
        super().__init__(protocols=list(CODECS))  # type: ignore[no-untyped-call]
        self.realm = realm
        self.clock = clock
        self.guard = Guard(realm.config, clock) if guard is None else guard
        self.connections: set[WampWebSocketProtocol] = set()
        self.closed_sent = 0  # messages written by connections now closed
        self.publications_received = 0
        self.slow_consumers_cut = 0
        self.close_grace = 5.0
        tally = realm.broker.tally
        tally.hold_until_sent()
        self.flusher = TurnFlusher(clock, tally.sent)
        self.reconfigure()

    def reconfigure(self) -> None:
        """Take the realm's allowed origins and limits (at start, and on SIGHUP): the message
        rate applies to every session at once, the WebSocket options to new connections."""
        realm = self.realm
        self.message_rate = realm.limits.max_messages_per_second
        self.message_burst = max(1.0, self.message_rate)  # one second's worth
        self.origins = OriginPolicy(realm.config.allowed_origins)
        self._set_options(realm)

    def sent(self) -> int:
        """Messages written to clients since the gateway started."""
        return self.closed_sent + sum(c.sent_messages for c in self.connections)

    def _set_options(self, realm: Realm) -> None:
        limits = realm.limits
        self.setProtocolOptions(  # type: ignore[no-untyped-call]
            maxMessagePayloadSize=limits.max_message_size,
            maxFramePayloadSize=limits.max_message_size,
            autoPingInterval=limits.auto_ping_interval,
            autoPingTimeout=limits.auto_ping_timeout,
            closeHandshakeTimeout=self.close_grace,
            openHandshakeTimeout=limits.hello_timeout,
            # RFC 6455 7.1.7: tell the peer why (1007, 1009, ...) instead of dropping the TCP.
            failByDrop=False,
            # Let the "null" origin reach onConnect, where allowed_origins decides (403).
            allowNullOrigin=True,
        )
