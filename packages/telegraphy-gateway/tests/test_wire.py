"""Parsing WAMP messages off the wire: what each serializer's bytes become, and what is refused
as a protocol violation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import cbor2
import msgpack
import pytest
from autobahn.wamp.exception import ProtocolError

from telegraphy.gateway.wire import CODECS

ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "wamp.2.json": lambda v: json.dumps(v).encode(),
    "wamp.2.msgpack": lambda v: msgpack.packb(v, use_bin_type=True),
    "wamp.2.cbor": cbor2.dumps,
}


@pytest.mark.parametrize("subprotocol", sorted(ENCODERS))
@pytest.mark.parametrize(
    "message",
    [
        [16, 1, {}, "app.topic", "a string"],  # PUBLISH
        [16, 1, {}, "app.topic", b"bytes"],
        [48, 1, {}, "app.proc", "a string"],  # CALL
        [48, 1, {}, "app.proc", b"bytes"],
        [70, 1, {}, b"bytes"],  # YIELD
    ],
)
def test_arguments_that_are_not_a_list_are_a_protocol_violation(
    subprotocol: str, message: list[Any]
) -> None:
    codec = CODECS[subprotocol]
    if subprotocol == "wamp.2.json" and isinstance(message[-1], bytes):
        message = [*message[:-1], "\x00Ynl0ZXM="]  # autobahn's JSON form of bytes
    with pytest.raises(ProtocolError, match="malformed"):
        codec.decode(ENCODERS[subprotocol](message), codec.binary)


def test_a_list_of_arguments_with_bytes_inside_is_fine() -> None:
    codec = CODECS["wamp.2.msgpack"]
    ((message, _),) = codec.decode(msgpack.packb([16, 1, {}, "app.t", [b"x"]]), True)
    assert message.args == [b"x"]
