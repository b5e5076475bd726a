"""Fan-out in process: one EVENT frame per codec, the same bytes written to every subscriber.

A pure-logic test of the broker: sessions sit on recording transports instead of sockets.
"""

from __future__ import annotations

import json

from in_process import joined, memory_realm, receive
from telegraphy.gateway import GatewayConfig
from telegraphy.gateway.wire import CODECS

JSON = CODECS["wamp.2.json"]


def test_one_frame_per_codec_shared_by_all_subscribers() -> None:
    realm = memory_realm(GatewayConfig())
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
