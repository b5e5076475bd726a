"""The gateway process: one realm served over HTTP/WebSocket, started and stopped gracefully."""

from __future__ import annotations

import os
import socket
from typing import Any, cast

from twisted.internet import defer, reactor, task
from twisted.internet.address import IPv4Address
from twisted.internet.endpoints import (
    AdoptedStreamServerEndpoint,
    TCP4ServerEndpoint,
    TCP6ServerEndpoint,
)
from twisted.internet.interfaces import IListeningPort, IReactorTCP, IReactorTime
from twisted.logger import Logger
from twisted.protocols.haproxy import proxyEndpoint
from twisted.python.failure import Failure

from . import __version__
from .config import GatewayConfig
from .engines import Engine, SqliteEngine, open_engine
from .metrics import Metrics
from .router.realm import Realm
from .transport.http import build_site, ingress_state
from .transport.limits import Guard
from .transport.tls import Certificate, ServerTls
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
        # Read before the engine opens: a bad certificate fails the start, leaving nothing open.
        self.tls = None if config.tls is None else ServerTls(Certificate(config.tls))
        self.engine = open_engine(config) if engine is None else engine
        self.realm = Realm(config, self.engine)
        self.accepting = True  # the ingress takes events until shutdown begins
        self._clock = clock
        self.metrics = Metrics()
        self.guard = Guard(config, clock, self.metrics.refused)
        self.websocket = WampWebSocketFactory(self.realm, clock, self.guard)
        self.site = build_site(self, self.websocket)
        self.metrics.watch(self)
        self._port: IListeningPort | None = None
        self.redis_ingress = self._redis_ingress()

    def _redis_ingress(self) -> Any:
        """The consumer of the Redis ingress stream, with the Redis engine and a secret."""
        address = getattr(self.engine, "address", None)
        if self.engine.name != "redis" or self.config.secret is None or address is None:
            return None
        from .engines.redis_ingress import RedisIngress
        from .transport.ingress import Ingress

        ingress = Ingress(
            self.config, self.config.secret, self.realm.broker, lambda: self.accepting, self.metrics
        )
        return RedisIngress(address, self.config.engine.prefix, ingress, self.config.secret)

    def listen(self, tcp: IReactorTCP = reactor, *, reuse_port: bool = False) -> IListeningPort:
        """Listen on the configured port; with `reuse_port`, beside the other workers of a
        `--workers N` gateway (SO_REUSEPORT: the kernel spreads connections among them)."""
        factory: Any = self.site if self.tls is None else self.tls.wrap(self.site)
        if self.config.proxy_protocol:
            self._port = listen_proxied(self.config.host, self.config.port, factory, reuse_port)
        elif reuse_port:
            self._port = listen_shared(self.config.host, self.config.port, factory)
        else:
            self._port = tcp.listenTCP(
                self.config.port, factory, backlog=LISTEN_BACKLOG, interface=self.config.host
            )
        address = cast(IPv4Address, self._port.getHost())
        log.info(
            "telegraphy-gateway {version} serving realm {realm} on {scheme}://{host}:{port}/ws",
            version=__version__,
            realm=self.config.realm,
            scheme="ws" if self.tls is None else "wss",
            host=address.host,
            port=address.port,
            event="gateway.started",
        )
        if self.tls is not None:
            log.info(
                "TLS certificate: {certificate}",
                certificate=self.tls.certificate.describe(),
                event="tls.certificate",
            )
        log.info("{ingress}", ingress=ingress_state(self.config), event="ingress.configured")
        log.info("engine: {engine}", engine=engine_state(self.engine), event="engine.configured")
        self.engine.start()
        if self.redis_ingress is not None:
            self.redis_ingress.start(reactor)
        return self._port

    def reconfigure(self, config: GatewayConfig, certificate: Certificate | None) -> None:
        """Run with `config` from now on (reload.py decides what in it may change) and serve
        new TLS connections with `certificate`."""
        self.config = config
        self.realm.reconfigure(config)
        self.guard.reconfigure(config)
        self.websocket.reconfigure()
        if self.tls is not None and certificate is not None:
            self.tls.use(certificate)

    def status(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "realm": self.realm.name,
            "sessions": len(self.realm.sessions),
            "engine": self.engine.name,
            "pid": os.getpid(),
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
            event="gateway.stopping",
        )
        self.accepting = False
        if self.redis_ingress is not None:
            yield self.redis_ingress.stop()
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
        log.info("telegraphy-gateway stopped", event="gateway.stopped")

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


def listen_shared(host: str, port: int, site: Any) -> IListeningPort:
    """A listening port that other processes may open too (SO_REUSEPORT)."""
    sock, family = _shared_socket(host, port)
    try:
        adopted: IListeningPort = reactor.adoptStreamPort(  # type: ignore[attr-defined]
            sock.fileno(), family, site
        )
        return adopted
    finally:
        sock.close()  # the reactor holds its own duplicate


def _shared_socket(host: str, port: int) -> tuple[socket.socket, int]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock, family


def listen_proxied(host: str, port: int, site: Any, reuse_port: bool) -> IListeningPort:
    """A listening port whose connections start with a PROXY protocol header (v1 or v2, from
    HAProxy, nginx's `proxy_protocol` or a cloud load balancer): each connection's peer is
    the client the header names (Twisted's haproxy endpoint wrapper)."""
    sock = None
    if reuse_port:
        sock, family = _shared_socket(host, port)
        endpoint: Any = AdoptedStreamServerEndpoint(reactor, sock.fileno(), family)
    elif ":" in host:
        endpoint = TCP6ServerEndpoint(reactor, port, LISTEN_BACKLOG, host)
    else:
        endpoint = TCP4ServerEndpoint(reactor, port, LISTEN_BACKLOG, host)
    listened: list[IListeningPort] = []
    failed: list[Failure] = []
    proxyEndpoint(endpoint).listen(site).addCallbacks(listened.append, failed.append)
    if sock is not None:
        sock.close()  # the reactor holds its own duplicate
    if failed:
        failed[0].raiseException()
    return listened[0]  # these endpoints listen at once


def engine_state(engine: Engine) -> str:
    """The line logged at start: which engine keeps history, and where."""
    if isinstance(engine, SqliteEngine):
        return f"sqlite, history and client records kept in {engine.path.resolve()}"
    if engine.shared:
        address = getattr(engine, "address", "")
        return f"{engine.name}, shared with every gateway using {address}"
    return f"{engine.name} (history and client records are lost when the gateway stops)"
