"""A TCP proxy in the test's reactor, between clients and a gateway, that the test can cut
(every connection through it reset, new ones refused) and restore on the same port."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.interfaces import IListeningPort
from twisted.protocols import portforward

from gateway_command import free_port


class _Server(portforward.ProxyServer):
    noisy = False

    def connectionMade(self) -> None:
        self.factory.live.add(self)
        super().connectionMade()

    def connectionLost(self, reason: object) -> None:
        self.factory.live.discard(self)
        super().connectionLost(reason)


class _Factory(portforward.ProxyFactory):
    protocol = _Server
    noisy = False

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.live: set[_Server] = set()


class TcpProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self._factory = _Factory(host, target_port)
        self.port = free_port()
        self._listening: IListeningPort | None = None
        self.cuts = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def connections(self) -> int:
        return len(self._factory.live)

    def start(self) -> TcpProxy:
        self._listening = reactor.listenTCP(self.port, self._factory, interface="127.0.0.1")
        return self

    async def cut(self) -> None:
        """Refuse new connections and reset every open one, on both sides."""
        assert self._listening is not None
        await self._listening.stopListening()
        self._listening = None
        self.cuts += 1
        for server in list(self._factory.live):
            if server.peer is not None:
                server.peer.transport.abortConnection()
            server.transport.abortConnection()

    async def stop(self) -> None:
        if self._listening is not None:
            await self.cut()
