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
from hypothesis import given, settings
from hypothesis import strategies as st

from telegraphy.gateway.wire import CODECS, MAX_DEPTH, NotPortable, check_portable

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


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (["\ud800"], "lone surrogate"),
        ([{"\udfff": 1}], "lone surrogate"),
        ([2**64], "outside 64 bits"),
        ([-(2**63) - 1], "outside 64 bits"),
        ([float("nan")], "JSON cannot carry"),
        ([{"x": float("inf")}], "JSON cannot carry"),
        ([{b"key": 1}], "not a string"),
        ([{(1, 2): 1}], "not a string"),
        ([{1, 2}], "set"),
        ([msgpack.Timestamp(1, 0)], "Timestamp"),
        ([cbor2.CBORTag(99, "x")], "CBORTag"),
        ([[[[]]]], None),  # fine
        ([2**64 - 1, -(2**63), "é", b"\x00", None, True, 1.5, {"k": [1]}], None),  # fine
    ],
)
def test_only_what_every_serializer_carries_may_be_published(
    value: Any, problem: str | None
) -> None:
    if problem is None:
        check_portable(value)
    else:
        with pytest.raises(NotPortable, match=problem):
            check_portable(value)


def test_nesting_is_bounded() -> None:
    deep: list[Any] = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(NotPortable, match="nested deeper"):
        check_portable(deep)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    subscription=st.integers(1, 2**53),
    publication=st.integers(1, 2**53),
    details=st.dictionaries(st.sampled_from(["offset", "epoch", "topic"]), json_values),
    args=st.lists(json_values, max_size=3),
    kwargs=st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)
def test_an_event_serialized_once_frames_each_subscription_as_a_whole_serialization_would(
    subscription: int, publication: int, details: dict[str, Any], args: list[Any],
    kwargs: dict[str, Any],
) -> None:  # fmt: skip
    message: list[Any] = [36, subscription, publication, details, args]
    if kwargs:
        message.append(kwargs)
    for codec in CODECS.values():
        frames = codec.event_frames(message)
        assert frames.frame(subscription) == codec.frame_raw(message), codec.name
