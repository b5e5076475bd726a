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
from autobahn.wamp.message import Abort
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet import reactor, tcp
from twisted.internet.interfaces import IPushProducer, IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from ..session import Session
from ..wire import CODECS, Codec
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

    def connectionMade(self) -> None:
        super().connectionMade()
        self.factory.connections.add(self)

    def connectionLost(self, reason: Any = None) -> None:
        self.factory.connections.discard(self)
        super().connectionLost(reason)

    def onConnect(self, request: ConnectionRequest) -> str:
        # autobahn gives "" when the request has no Origin header.
        if not self.factory.origins.allows(request.origin or None):
            log.info(
                "refused a WebSocket from {peer}: origin {origin} is not allowed",
                peer=request.peer,
                origin=request.origin,
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

    def onOpen(self) -> None:
        self._paused = False
        self._paused_bytes = 0
        self._dead = False
        self._tcp = cast(tcp.Connection, self.transport)
        # Twisted Web registered its HTTP channel as the producer; the WebSocket took over.
        if self._tcp.producer is not None:
            self._tcp.unregisterProducer()
        self._tcp.registerProducer(self, True)
        self.session = Session(self, self.factory.realm)
        self._hello_timer = self.factory.clock.callLater(
            self.factory.realm.limits.hello_timeout, self._hello_timed_out
        )

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        session = self.session
        assert session is not None
        try:
            messages = self.codec.decode(payload, isBinary)
        except ProtocolError as e:
            session.on_protocol_error(str(e))
            return
        for message, raw in messages:
            session.on_message(message, raw)
        if self._hello_timer.active() and not session.joining:
            self._hello_timer.cancel()

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
        if self._paused:
            self._paused_bytes += len(frame)
            if self._paused_bytes > self.factory.realm.limits.max_output_buffer:
                self._dead = True
                self.factory.clock.callLater(0, self._cut_slow_consumer)
                return
        self._tcp.write(frame)

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

    def _hello_timed_out(self) -> None:
        if self.session is not None and self.session.joining:
            self.session.on_protocol_error("the opening handshake did not finish in hello_timeout")


class WampWebSocketFactory(WebSocketServerFactory):
    protocol = WampWebSocketProtocol  # type: ignore[assignment]  # autobahn's own protocol API

    def __init__(self, realm: Realm, clock: IReactorTime = reactor) -> None:
        super().__init__(protocols=list(CODECS))  # type: ignore[no-untyped-call]
        self.realm = realm
        self.clock = clock
        self.origins = OriginPolicy(realm.config.allowed_origins)
        self.connections: set[WampWebSocketProtocol] = set()
        self.close_grace = 5.0
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
