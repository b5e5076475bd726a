"""Peers for feature tests that share one gateway: sessions that leave when the test ends, and a
hand-written JSON WAMP session for options autobahn no longer sends (`disclose_me`, ...)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp import auth

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG, start_gateway
from gateway_harness import Client, GatewayProcess, RawPeer, join, left

REPORTING_ID = "reporting-1"
REPORTING_SECRET = "reporting-secret-0123456789abcdef"
REPORTING_ROLE = "reporting"

CONFIG = f"""{DEFAULT_CONFIG}
[[backends]]
authid = "{REPORTING_ID}"
secret = "{REPORTING_SECRET}"
authrole = "{REPORTING_ROLE}"
"""
"""The default configuration plus a second backend with its own authrole."""

GOODBYE = 6

RAW_ROLES: dict[str, Any] = {
    "caller": {"features": {"caller_identification": True, "call_canceling": True}},
    "callee": {"features": {"caller_identification": True, "call_canceling": True}},
    "publisher": {"features": {"publisher_identification": True}},
    "subscriber": {"features": {"publisher_identification": True}},
}
"""What a raw session announces in HELLO (the features the tests exercise)."""


class RawSession:
    """A WAMP session over wamp.2.json whose messages the test writes and reads as lists."""

    def __init__(self, peer: RawPeer, welcome: list[Any]) -> None:
        self.peer = peer
        self.id: int = welcome[1]
        self.details: dict[str, Any] = welcome[2]

    def send(self, *message: Any) -> None:
        self.peer.send(json.dumps(list(message)))

    async def receive(self) -> list[Any]:
        message: list[Any] = json.loads(await self.peer.receive())
        return message

    async def request(self, *message: Any) -> list[Any]:
        """Send a request and return the router's answer to it (matched by request id)."""
        self.send(*message)
        while True:
            answer = await self.receive()
            if _request_of(answer) == message[1]:
                return answer

    async def leave(self) -> None:
        """GOODBYE, and wait for the router's: once it answers, it has removed the session."""
        self.send(GOODBYE, {}, "wamp.close.normal")
        while (await self.receive())[0] != GOODBYE:
            pass
        await self.peer.closed()


def _request_of(message: list[Any]) -> int | None:
    # ERROR carries the request id third; SUBSCRIBED, REGISTERED, RESULT, ... carry it second.
    return message[2] if message[0] == 8 else message[1]


async def raw_join(
    url: str, authid: str = BACKEND_ID, secret: str = BACKEND_SECRET, roles: Any = None
) -> RawSession:
    peer = await RawPeer(url, ["wamp.2.json"]).connect()
    hello = {"roles": roles or RAW_ROLES, "authmethods": ["wampcra"], "authid": authid}
    peer.send(json.dumps([1, "telegraphy", hello]))
    challenge = json.loads(await peer.receive())
    assert challenge[0] == 4, challenge
    signature = auth.compute_wcs(secret, challenge[2]["challenge"]).decode("ascii")
    peer.send(json.dumps([5, signature, {}]))
    welcome = json.loads(await peer.receive())
    assert welcome[0] == 2, welcome
    return RawSession(peer, welcome)


class Peers:
    """Joins sessions to one gateway and makes every one of them leave at the end of a test,
    so that tests sharing a gateway do not see each other's sessions and subscriptions."""

    def __init__(self, gateway: GatewayProcess) -> None:
        self.url = gateway.url
        self._sessions: list[Client] = []
        self._raw: list[RawSession] = []

    async def backend(self, serializer: str = "json") -> Client:
        return self.track(
            await join(self.url, authid=BACKEND_ID, secret=BACKEND_SECRET, serializer=serializer)
        )

    async def reporting(self) -> Client:
        """A session of the second backend (authrole `reporting`)."""
        return self.track(await join(self.url, authid=REPORTING_ID, secret=REPORTING_SECRET))

    async def anonymous(self, serializer: str = "json") -> Client:
        return self.track(await join(self.url, serializer=serializer))

    async def raw(self, roles: Any = None) -> RawSession:
        session = await raw_join(self.url, roles=roles)
        self._raw.append(session)
        return session

    def track(self, session: Client) -> Client:
        self._sessions.append(session)
        return session

    async def close(self) -> None:
        for session in self._sessions:
            if session.is_attached():
                session.leave()
                await left(session)
        for raw in self._raw:
            if not raw.peer.factory.closed.called:
                await raw.leave()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """One gateway for a whole test module: a process start per module, not per test."""
    process = start_gateway(tmp_path_factory.mktemp("gateway"), CONFIG)
    yield process
    process.stop()


@pytest_twisted.async_yield_fixture
async def peers(gateway: GatewayProcess):  # type: ignore[no-untyped-def]
    tracked = Peers(gateway)
    yield tracked
    await tracked.close()
