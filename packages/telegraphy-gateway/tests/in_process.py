"""A realm in this process with sessions on recording transports: for tests of pure router
logic (fan-out, recovery) without sockets."""

from __future__ import annotations

import json
from typing import Any

from telegraphy.gateway import GatewayConfig
from telegraphy.gateway.auth import Accept
from telegraphy.gateway.engines import MemoryEngine
from telegraphy.gateway.router.realm import Realm
from telegraphy.gateway.session import Session
from telegraphy.gateway.wire import CODECS, Codec

JSON = CODECS["wamp.2.json"]


class Recorder:
    """A transport that keeps the frames written to it."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.frames: list[bytes] = []

    def send_frame(self, frame: bytes) -> None:
        self.frames.append(frame)

    def close(self, code: int, reason: str) -> None:
        pass

    def details(self) -> dict[str, Any]:
        return {"type": "recorder"}

    def messages(self) -> list[list[Any]]:
        """The JSON messages written, unframed."""
        return [json.loads(frame[2:] if frame[1] < 126 else frame[4:]) for frame in self.frames]

    def events(self) -> list[list[Any]]:
        return [m for m in self.messages() if m[0] == 36]


def memory_realm(config: GatewayConfig) -> Realm:
    return Realm(config, MemoryEngine(config.history.policy, config.history.dedupe_window))


def receive(session: Session, message: list[Any]) -> None:
    """Hand the session a message as if it had come off the wire."""
    for parsed, raw in JSON.decode(json.dumps(message).encode(), False):
        session.on_message(parsed, raw)


def joined(realm: Realm, subprotocol: str = "wamp.2.json") -> tuple[Session, Recorder]:
    """A backend session (allowed everything), with nothing recorded yet."""
    transport = Recorder(CODECS[subprotocol])
    session = Session(transport, realm)
    receive(session, [1, "telegraphy", {"roles": {"subscriber": {}, "publisher": {}}}])
    assert session.state == "established"
    session.permissions = realm.permissions_for(Accept("b", "backend", "wampcra"))
    transport.frames.clear()
    return session, transport
