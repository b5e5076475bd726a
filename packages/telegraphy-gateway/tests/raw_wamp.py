"""A hand-written WAMP peer: the test writes and reads WAMP messages as plain lists, over
wamp.2.json or wamp.2.msgpack, for what autobahn will not send (malformed, out-of-order or
router-only messages, options autobahn dropped such as `disclose_me`)."""

from __future__ import annotations

import json
from typing import Any

import msgpack
from autobahn.wamp import auth

from conftest import BACKEND_ID, BACKEND_SECRET
from gateway_harness import RawPeer

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ERROR = 1, 2, 3, 4, 5, 6, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, EVENT = 16, 17, 32, 33, 34, 36
CALL, CANCEL, RESULT, REGISTER, REGISTERED, UNREGISTER = 48, 49, 50, 64, 65, 66
INVOCATION, INTERRUPT, YIELD = 68, 69, 70

JSON, MSGPACK = "wamp.2.json", "wamp.2.msgpack"
SUBSCRIBER_ONLY: dict[str, Any] = {"subscriber": {}}
"""The roles a peer announces in HELLO unless told otherwise."""


class WampPeer:
    """A raw WebSocket peer that sends and receives WAMP messages as plain lists."""

    def __init__(self, raw: RawPeer, protocol: str) -> None:
        self.raw = raw
        self.binary = protocol == MSGPACK
        self.id: int | None = None
        self.details: dict[str, Any] = {}

    @classmethod
    async def connect(cls, url: str, protocol: str = JSON) -> WampPeer:
        return cls(await RawPeer(url, [protocol]).connect(), protocol)

    def send(self, *message: Any) -> None:
        if self.binary:
            self.raw.send(msgpack.packb(list(message)), binary=True)
        else:
            self.raw.send(json.dumps(list(message)))

    async def receive(self) -> list[Any]:
        payload = await self.raw.receive()
        message: list[Any] = msgpack.unpackb(payload) if self.binary else json.loads(payload)
        return message

    @property
    def unread(self) -> int:
        """Messages received and not yet read with `receive()`."""
        return len(self.raw.factory.messages.pending)

    @property
    def is_closed(self) -> bool:
        return bool(self.raw.factory.closed.called)

    async def closed(self) -> tuple[int | None, str | None]:
        return await self.raw.closed()

    async def expect(self, kind: int) -> list[Any]:
        message = await self.receive()
        assert message[0] == kind, message
        return message

    def send_hello(
        self,
        authmethods: list[str] | None = None,
        authid: str | None = None,
        *,
        realm: str = "telegraphy",
        roles: dict[str, Any] = SUBSCRIBER_ONLY,
    ) -> None:
        details: dict[str, Any] = {"roles": roles}
        if authmethods is not None:
            details["authmethods"] = authmethods
        if authid is not None:
            details["authid"] = authid
        self.send(HELLO, realm, details)

    async def hello(
        self, authmethods: list[str] | None = None, authid: str | None = None, **kwargs: Any
    ) -> list[Any]:
        """Send HELLO and return the answer (WELCOME, CHALLENGE or ABORT)."""
        self.send_hello(authmethods, authid, **kwargs)
        return await self.receive()

    async def welcomed(self) -> None:
        welcome = await self.expect(WELCOME)
        self.id, self.details = welcome[1], welcome[2]

    async def expect_abort(self, reason: str) -> str:
        """The next message is ABORT with `reason`, then the gateway closes the connection."""
        message = await self.expect(ABORT)
        assert message[2] == reason, message
        await self.closed()
        text: str = message[1].get("message", "")
        return text

    async def expect_error(self, request_type: int, request: int, uri: str) -> None:
        message = await self.expect(ERROR)
        assert message[1:3] == [request_type, request] and message[4] == uri, message

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
        await self.closed()


def _request_of(message: list[Any]) -> int | None:
    # ERROR carries the request id third; SUBSCRIBED, REGISTERED, RESULT, ... carry it second.
    return message[2] if message[0] == ERROR else message[1]


def sign(secret: str, challenge: list[Any]) -> str:
    """The WAMP-CRA signature that answers a CHALLENGE message."""
    signature: bytes = auth.compute_wcs(secret, challenge[2]["challenge"])
    return signature.decode("ascii")


async def raw_join(
    url: str,
    *,
    backend: bool = False,
    protocol: str = JSON,
    roles: dict[str, Any] = SUBSCRIBER_ONLY,
) -> WampPeer:
    """A raw peer with an established session: the WAMP-CRA backend, or anonymous."""
    peer = await WampPeer.connect(url, protocol)
    if not backend:
        peer.send_hello(["anonymous"], roles=roles)
    else:
        challenge = await peer.hello(["wampcra"], BACKEND_ID, roles=roles)
        assert challenge[0] == CHALLENGE, challenge
        peer.send(AUTHENTICATE, sign(BACKEND_SECRET, challenge), {})
    await peer.welcomed()
    return peer
