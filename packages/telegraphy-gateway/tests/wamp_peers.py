"""Peers for feature tests that share one gateway: sessions that leave when the test ends,
including hand-written JSON WAMP sessions for options autobahn no longer sends (`disclose_me`)."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG, module_gateway
from gateway_harness import Client, GatewayProcess, join, left
from raw_wamp import WampPeer, raw_join

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

RAW_ROLES: dict[str, Any] = {
    "caller": {"features": {"caller_identification": True, "call_canceling": True}},
    "callee": {"features": {"caller_identification": True, "call_canceling": True}},
    "publisher": {"features": {"publisher_identification": True}},
    "subscriber": {"features": {"publisher_identification": True}},
}
"""What a raw session announces in HELLO (the features the tests exercise)."""

gateway = module_gateway(CONFIG)
"""One gateway for a whole test module: the modules assign it to their own `gateway`."""


class Peers:
    """Joins sessions to one gateway and makes every one of them leave at the end of a test,
    so that tests sharing a gateway do not see each other's sessions and subscriptions."""

    def __init__(self, gateway: GatewayProcess) -> None:
        self.url = gateway.url
        self._sessions: list[Client] = []
        self._raw: list[WampPeer] = []

    async def backend(self, serializer: str = "json") -> Client:
        return self.track(
            await join(self.url, authid=BACKEND_ID, secret=BACKEND_SECRET, serializer=serializer)
        )

    async def reporting(self) -> Client:
        """A session of the second backend (authrole `reporting`)."""
        return self.track(await join(self.url, authid=REPORTING_ID, secret=REPORTING_SECRET))

    async def anonymous(self, serializer: str = "json") -> Client:
        return self.track(await join(self.url, serializer=serializer))

    async def raw(self, roles: dict[str, Any] | None = None) -> WampPeer:
        """A hand-written JSON session of the backend."""
        session = await raw_join(self.url, backend=True, roles=roles or RAW_ROLES)
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
            if not raw.is_closed:
                await raw.leave()


@pytest_twisted.async_yield_fixture
async def peers(gateway: GatewayProcess):  # type: ignore[no-untyped-def]
    tracked = Peers(gateway)
    yield tracked
    await tracked.close()
