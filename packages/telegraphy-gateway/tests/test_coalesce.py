"""Frames of one reactor turn sent together (transport/coalesce.py), on real Twisted TCP
connections: straight to the socket while Twisted holds nothing for it, through Twisted's
buffer (in order) once the socket is full; and the delivery latency observed when sent."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import pytest_twisted
from twisted.internet import protocol, reactor, tcp
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.threads import deferToThread
from twisted.logger import globalLogPublisher
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory

from telegraphy.gateway.router.tally import DeliveryTally
from telegraphy.gateway.transport.coalesce import TurnFlusher, direct_socket, send


class Held(protocol.Protocol):
    def connectionMade(self) -> None:
        self.factory.connected.callback(self)  # type: ignore[attr-defined]


class HeldFactory(protocol.Factory):
    protocol = Held

    def __init__(self) -> None:
        self.connected: Deferred[Held] = Deferred()


@pytest_twisted.async_yield_fixture
async def connection() -> AsyncIterator[tuple[tcp.Server, socket.socket]]:
    """A server-side Twisted TCP transport and the client's blocking socket."""
    factory = HeldFactory()
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    client = socket.create_connection(("127.0.0.1", port.getHost().port))
    held = await factory.connected
    yield held.transport, client
    client.close()
    held.transport.abortConnection()
    await port.stopListening()


def read_exactly(sock: socket.socket, size: int) -> bytes:
    sock.settimeout(10)
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        assert chunk, "the connection closed early"
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


@pytest_twisted.ensureDeferred
async def test_a_frame_goes_straight_to_an_idle_socket(
    connection: tuple[tcp.Server, socket.socket],
) -> None:
    transport, client = connection
    sock = direct_socket(transport)
    assert sock is not None
    send(transport, sock, b"frame one")
    # Nothing left for Twisted: no buffer, the socket never registered for writing.
    assert transport.dataBuffer == b"" and transport._tempDataLen == 0
    assert transport not in reactor.getWriters()
    assert read_exactly(client, 9) == b"frame one"


@pytest_twisted.ensureDeferred
async def test_what_a_full_socket_cannot_take_follows_through_twisted_in_order(
    connection: tuple[tcp.Server, socket.socket],
) -> None:
    transport, client = connection
    sock = direct_socket(transport)
    chunks = [bytes([n]) * 65536 for n in range(256)]  # 16 MiB, more than the kernel holds
    for chunk in chunks:
        send(transport, sock, chunk)
    assert transport._tempDataLen > 0  # the client reads nothing yet: Twisted buffers
    # Read in a thread: the reactor must keep running to drain Twisted's buffer.
    received = deferToThread(read_exactly, client, len(chunks) * 65536)
    assert await received == b"".join(chunks)


def test_tls_and_wrapped_transports_are_not_sent_to_directly() -> None:
    wrapper = ProtocolWrapper(WrappingFactory(protocol.Factory()), protocol.Protocol())
    assert direct_socket(wrapper) is None
    assert direct_socket(object()) is None


def test_a_turns_connections_flush_once_at_its_end_then_the_latency_is_observed() -> None:
    clock = Clock()
    tally = DeliveryTally(clock=clock.seconds)
    tally.hold_until_sent()
    flushed: list[str] = []

    class Connection:
        def __init__(self, name: str) -> None:
            self.name = name

        def flush(self) -> None:
            flushed.append(self.name)

    flusher = TurnFlusher(clock, tally.sent)
    flusher.add(Connection("a"))
    flusher.add(Connection("b"))
    tally.written("json", b"x" * 10, 2)
    tally.delivered(accepted_at=0.0)
    assert flushed == [] and sum(tally.latency_counts) == 0  # not sent yet
    clock.advance(0.3)
    assert flushed == ["a", "b"]
    assert sum(tally.latency_counts) == 1 and tally.latency_sum == pytest.approx(0.3)
    assert len(clock.getDelayedCalls()) == 0  # one call per turn, none left waiting


def test_a_publication_that_wrote_nothing_is_observed_at_once() -> None:
    clock = Clock()
    tally = DeliveryTally(clock=clock.seconds)
    tally.hold_until_sent()
    clock.advance(1)
    tally.delivered(accepted_at=0.5)  # every subscriber filtered out: nothing to send
    assert sum(tally.latency_counts) == 1 and tally.latency_sum == pytest.approx(0.5)


def test_a_connection_that_fails_to_flush_does_not_hold_back_the_others() -> None:
    clock = Clock()
    flushed: list[str] = []
    logged: list[dict[str, object]] = []

    class Connection:
        def __init__(self, name: str) -> None:
            self.name = name

        def flush(self) -> None:
            if self.name == "broken":
                raise RuntimeError("a bug")
            flushed.append(self.name)

    flusher = TurnFlusher(clock)
    for name in ("a", "broken", "b"):
        flusher.add(Connection(name))
    globalLogPublisher.addObserver(logged.append)
    try:
        clock.advance(0)
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert flushed == ["a", "b"]
    failures = [e for e in logged if e.get("event") == "connection.flush_failed"]
    assert len(failures) == 1 and "log_failure" in failures[0]
