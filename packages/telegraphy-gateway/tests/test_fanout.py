"""Fan-out in process: one EVENT frame per codec, the same bytes written to every subscriber.

A pure-logic test of the broker: sessions sit on recording transports instead of sockets.
"""

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


def receive(session: Session, message: list[Any]) -> None:
    """Hand the session a message as if it had come off the wire."""
    for parsed, raw in JSON.decode(json.dumps(message).encode(), False):
        session.on_message(parsed, raw)


def joined(realm: Realm, subprotocol: str) -> tuple[Session, Recorder]:
    transport = Recorder(CODECS[subprotocol])
    session = Session(transport, realm)
    receive(session, [1, "telegraphy", {"roles": {"subscriber": {}, "publisher": {}}}])
    assert session.state == "established"
    session.permissions = realm.permissions_for(Accept("b", "backend", "wampcra"))
    return session, transport


def test_one_frame_per_codec_shared_by_all_subscribers() -> None:
    config = GatewayConfig()
    realm = Realm(config, MemoryEngine(config.history.policy, config.history.dedupe_window))
    publisher, _ = joined(realm, "wamp.2.json")
    subscribers = [joined(realm, p) for p in ["wamp.2.json"] * 50 + ["wamp.2.msgpack"] * 50]
    for session, transport in subscribers:
        receive(session, [32, 1, {}, "app.topic"])
        transport.frames.clear()

    receive(publisher, [16, 2, {}, "app.topic", ["hello"]])

    assert all(len(t.frames) == 1 for _, t in subscribers)
    for codec in (JSON, CODECS["wamp.2.msgpack"]):
        same_codec = [t.frames[0] for _, t in subscribers if t.codec is codec]
        assert len({id(frame) for frame in same_codec}) == 1  # one bytes object per codec
    event = json.loads(subscribers[0][1].frames[0][2:])
    assert event[0] == 36 and event[4] == ["hello"]  # EVENT with the publisher's arguments
