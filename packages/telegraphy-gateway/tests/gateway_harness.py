"""Test harness: a gateway process, autobahn sessions joined to it, and a raw WebSocket peer."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from autobahn.twisted.wamp import ApplicationSession, ApplicationSessionFactory
from autobahn.twisted.websocket import (
    WampWebSocketClientFactory,
    WebSocketClientFactory,
    WebSocketClientProtocol,
)
from autobahn.wamp import auth
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import CloseDetails, ComponentConfig
from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator

WAIT = 10.0
"""Seconds any test waits for a condition before failing."""


@dataclass
class GatewayProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    output_after_stop: str = ""

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.output_after_stop = self.output()
            self.log.close()
        return self.process.returncode


class JoinFailed(Exception):
    def __init__(self, details: CloseDetails) -> None:
        super().__init__(f"{details.reason}: {details.message}")
        self.reason = details.reason
        self.message = details.message


class Client(ApplicationSession):
    """An autobahn session that joins with the options in its config.extra."""

    def onConnect(self) -> None:
        extra = self.config.extra
        self.join(
            self.config.realm,
            authmethods=extra.get("authmethods"),
            authid=extra.get("authid"),
            authextra=extra.get("authextra"),
        )

    def onChallenge(self, challenge: Any) -> str:
        if challenge.method == "ticket":
            ticket: str = self.config.extra["ticket"]
            return ticket
        signature: bytes = auth.compute_wcs(
            self.config.extra["secret"], challenge.extra["challenge"]
        )
        return signature.decode("ascii")

    def onJoin(self, details: Any) -> None:
        self.welcome = details  # SessionDetails: authextra, ...
        self.config.extra["joined"].callback(self)

    def onLeave(self, details: CloseDetails) -> None:
        self.config.extra["left"].callback(details)
        joined = self.config.extra["joined"]
        if not joined.called:
            joined.errback(JoinFailed(details))
        self.disconnect()


async def join(
    url: str,
    *,
    realm: str = "telegraphy",
    authid: str | None = None,
    secret: str | None = None,
    authmethods: list[str] | None = None,
    serializer: str = "json",
    ticket: str | None = None,
    authextra: dict[str, Any] | None = None,
    tls: IOpenSSLClientConnectionCreator | None = None,
) -> Client:
    """Connect (over TLS with `tls`, for a wss:// URL) and join (WAMP-CRA with `secret`, ticket
    with `ticket`, else anonymous); raises `JoinFailed` if the gateway answers with ABORT."""
    if authmethods is None:
        authmethods = ["wampcra"] if secret else ["ticket"] if ticket is not None else ["anonymous"]
    extra: dict[str, Any] = {
        "authid": authid,
        "secret": secret,
        "ticket": ticket,
        "authextra": authextra,
        "authmethods": authmethods,
        "joined": defer.Deferred(),
        "left": defer.Deferred(),
    }
    sessions = ApplicationSessionFactory(ComponentConfig(realm, extra))
    sessions.session = Client
    serializers = [MsgPackSerializer()] if serializer == "msgpack" else [JsonSerializer()]
    transport = WampWebSocketClientFactory(sessions, url=url, serializers=serializers)
    host, port = url.split("//")[1].split("/")[0].split(":")
    tcp = TCP4ClientEndpoint(reactor, host, int(port))
    await (tcp if tls is None else wrapClientTLS(tls, tcp)).connect(transport)
    session: Client = await within(extra["joined"])
    return session


async def left(session: Client) -> CloseDetails:
    """Wait until the gateway ends the session."""
    details: CloseDetails = await within(session.config.extra["left"])
    return details


def within(d: defer.Deferred[Any], seconds: float = WAIT) -> defer.Deferred[Any]:
    return d.addTimeout(seconds, reactor)


class Inbox:
    """Collects what a subscription or handler receives; `next()` waits for the next item."""

    def __init__(self) -> None:
        self._queue: defer.DeferredQueue[Any] = defer.DeferredQueue()

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self._queue.put((args, kwargs))

    async def next(self, seconds: float = WAIT) -> tuple[tuple[Any, ...], dict[str, Any]]:
        item: tuple[tuple[Any, ...], dict[str, Any]] = await within(self._queue.get(), seconds)
        return item

    @property
    def pending(self) -> int:
        return len(self._queue.pending)


class RawProtocol(WebSocketClientProtocol):
    """A WebSocket peer that sends whatever the test gives it and records what comes back."""

    def onOpen(self) -> None:
        self.factory.opened.callback(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.factory.messages.put(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.closed.callback((code, reason))
        if not self.factory.opened.called:
            self.factory.opened.errback(ConnectionError(f"closed: {code} {reason}"))


class RawPeer:
    """Connect with a chosen subprotocol; `send()` bytes or text; `receive()` the next message."""

    def __init__(self, url: str, protocols: list[str]) -> None:
        self.factory = WebSocketClientFactory(url, protocols=protocols)
        self.factory.protocol = RawProtocol
        self.factory.opened = defer.Deferred()
        self.factory.closed = defer.Deferred()
        self.factory.messages = defer.DeferredQueue()
        self._url = url

    async def connect(self) -> RawPeer:
        host, port = self._url.split("//")[1].split("/")[0].split(":")
        await TCP4ClientEndpoint(reactor, host, int(port)).connect(self.factory)
        self.protocol: RawProtocol = await within(self.factory.opened)
        return self

    def send(self, payload: bytes | str, binary: bool = False) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self.protocol.sendMessage(data, isBinary=binary)

    async def receive(self) -> bytes:
        payload: bytes = await within(self.factory.messages.get())
        return payload

    async def closed(self) -> tuple[int | None, str | None]:
        result: tuple[int | None, str | None] = await within(self.factory.closed)
        return result


async def eventually(condition: Callable[[], bool], seconds: float = WAIT) -> None:
    """Wait until `condition()` holds (checked every 20 ms); fail after `seconds`."""
    deadline = reactor.seconds() + seconds
    while not condition():
        if reactor.seconds() > deadline:
            raise TimeoutError(f"condition not met within {seconds} s")
        await task.deferLater(reactor, 0.02, lambda: None)
