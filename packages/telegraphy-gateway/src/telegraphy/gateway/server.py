"""The gateway process: one realm served over HTTP/WebSocket, started and stopped gracefully."""

from __future__ import annotations

from typing import Any, cast

from twisted.internet import defer, reactor, task
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort, IReactorTCP, IReactorTime
from twisted.logger import Logger

from . import __version__
from .config import GatewayConfig
from .engines import Engine, SqliteEngine, open_engine
from .router.realm import Realm
from .transport.http import build_site, ingress_state
from .transport.websocket import WampWebSocketFactory

log = Logger()

SHUTDOWN = "wamp.close.system_shutdown"
LISTEN_BACKLOG = 1024
"""Connections the kernel queues before accept (Twisted's default, 50, drops bursts of
browsers reconnecting after a restart)."""
_POLL = 0.02


class Gateway:
    def __init__(
        self, config: GatewayConfig, clock: IReactorTime = reactor, engine: Engine | None = None
    ) -> None:
        self.config = config
        self.engine = open_engine(config) if engine is None else engine
        self.realm = Realm(config, self.engine)
        self.accepting = True  # the ingress takes events until shutdown begins
        self._clock = clock
        self.websocket = WampWebSocketFactory(self.realm, clock)
        self.site = build_site(self, self.websocket)
        self._port: IListeningPort | None = None

    def listen(self, tcp: IReactorTCP = reactor) -> IListeningPort:
        self._port = tcp.listenTCP(
            self.config.port,
            self.site,  # type: ignore[arg-type]  # twisted's stubs type Site too narrowly
            backlog=LISTEN_BACKLOG,
            interface=self.config.host,
        )
        address = cast(IPv4Address, self._port.getHost())
        log.info(
            "telegraphy-gateway {version} serving realm {realm} on ws://{host}:{port}/ws",
            version=__version__,
            realm=self.config.realm,
            host=address.host,
            port=address.port,
        )
        log.info("{ingress}", ingress=ingress_state(self.config))
        log.info("engine: {engine}", engine=engine_state(self.engine))
        self.engine.start()
        return self._port

    def status(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "realm": self.realm.name,
            "sessions": len(self.realm.sessions),
            "engine": self.engine.name,
        }

    def readiness(self) -> list[str]:
        """Why the gateway should not be sent traffic now; empty when it is ready."""
        reasons = []
        if self._port is None or not self.accepting:
            reasons.append("not accepting: starting or shutting down")
        problem = self.engine.problem()
        if problem is not None:
            reasons.append(problem)
        return reasons

    @defer.inlineCallbacks
    def stop(self) -> Any:
        """Stop listening, let calls in flight finish, say GOODBYE to every session."""
        timeout = self.config.limits.shutdown_timeout
        log.info(
            "shutting down: {sessions} sessions, {calls} calls in flight",
            sessions=len(self.realm.sessions),
            calls=self.realm.dealer.in_flight(),
        )
        self.accepting = False
        if self._port is not None:
            yield self._port.stopListening()
        self.realm.dealer.accepting = False
        yield self._wait(lambda: self.realm.dealer.in_flight() == 0, timeout)
        self.realm.dealer.cancel_all("the gateway is shutting down")
        for session in list(self.realm.sessions.values()):
            session.goodbye(SHUTDOWN, "the gateway is shutting down")
        yield self._wait(lambda: not self.websocket.connections, timeout)
        for connection in list(self.websocket.connections):
            connection.abort()
        yield self.engine.stop()
        log.info("telegraphy-gateway stopped")

    def _wait(self, done: Any, timeout: float) -> defer.Deferred[None]:
        """Fire when `done()` is true or `timeout` seconds have passed."""
        finished: defer.Deferred[None] = defer.Deferred()
        deadline = self._clock.seconds() + timeout

        def check() -> None:
            if done() or self._clock.seconds() >= deadline:
                loop.stop()

        loop = task.LoopingCall(check)
        loop.clock = self._clock
        loop.start(_POLL, now=True).addCallback(lambda _: finished.callback(None))
        return finished


def engine_state(engine: Engine) -> str:
    """The line logged at start: which engine keeps history, and where."""
    if isinstance(engine, SqliteEngine):
        return f"sqlite, history and client records kept in {engine.path.resolve()}"
    return f"{engine.name} (history and client records are lost when the gateway stops)"
