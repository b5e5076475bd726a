"""validate_envelope: the gateway's check of what arrives, every way an envelope can be wrong."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from telegraphy.core import Event, EventError, to_channel, validate_envelope

VALID: dict[str, Any] = {
    "name": "shop.Order",
    "meta": {
        "event_type": "create",
        "verbose_name": "Order",
        "timestamp": "2024-05-01T10:30:00.123Z",
        "id": "3f1c0e9a",
    },
    "data": {"id": 1, "lines": [{"price": "1.10", "qty": 2.5, "gift": False, "note": None}]},
}


def changed(path: str, value: object) -> dict[str, Any]:
    """VALID with the value at a dotted path replaced, or removed when `value` is DELETE."""
    envelope = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    target = envelope
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return envelope


DELETE = object()


def deep(levels: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _ in range(levels - 1):
        data = {"a": data}
    return data


def test_a_valid_envelope_is_returned_as_it_is() -> None:
    assert validate_envelope(copy.deepcopy(VALID)) == VALID


@pytest.mark.parametrize(
    "envelope",
    [
        changed("meta.verbose_name", None),
        changed("meta.verbose_name", DELETE),
        changed("meta.room", {"floor": [1, 2]}),
        changed("meta.timestamp", "2024-05-01T12:30:00+02:00"),
        changed("data", {}),
        changed("data", deep(100)),
        changed("data.n", [2**64 - 1, -(2**63), 1.5, True, None, "ü"]),
    ],
)
def test_what_may_vary_in_a_valid_envelope(envelope: dict[str, Any]) -> None:
    assert validate_envelope(envelope) == envelope


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        ([VALID], "an event must be an object, got list"),
        (None, "an event must be an object, got NoneType"),
        (
            changed("name", DELETE),
            "an event has exactly the keys name, meta and data (missing name)",
        ),
        (
            {**VALID, "extra": 1, 2: 3},  # type: ignore[misc]
            "an event has exactly the keys name, meta and data (unknown 2, extra)",
        ),
        (
            {"name": "a", "other": 1},
            "an event has exactly the keys name, meta and data (missing data, meta; unknown other)",
        ),
        (changed("name", "shop order"), "invalid event name 'shop order'"),
        (changed("name", "shop..order"), "invalid event name 'shop..order'"),
        (changed("name", 3), "an event name must be a string, got int"),
        (changed("meta", []), "meta must be an object, got list"),
        (changed("meta.event_type", DELETE), "meta.event_type must be a non-empty string"),
        (changed("meta.event_type", ""), "meta.event_type must be a non-empty string"),
        (changed("meta.timestamp", DELETE), "meta.timestamp must be a non-empty string"),
        (changed("meta.id", 5), "meta.id must be a non-empty string"),
        (changed("meta.id", "x" * 101), "meta.id is longer than 100 characters"),
        (
            changed("meta.timestamp", "yesterday"),
            "meta.timestamp must be an ISO 8601 date and time",
        ),
        (changed("meta.timestamp", "2024-13-01T00:00:00Z"), "meta.timestamp must be an ISO 8601"),
        (changed("meta.verbose_name", 1), "meta.verbose_name must be a string or null"),
        (changed("meta.extra", {1: "x"}), "meta.extra has a key that is not valid text: 1"),
        (changed("data.k", {"\udc00": 1}), "data.k has a key that is not valid text: '\\udc00'"),
        (changed("data.t", "\ud800"), "data.t is not valid Unicode text (a lone surrogate)"),
        (changed("name", "shop.\ud800"), "name is not valid Unicode text (a lone surrogate)"),
        (changed("data.n", 2**64), "data.n does not fit in 64 bits; send it as a string"),
        (changed("data.n", [-(2**63) - 1]), "data.n[0] does not fit in 64 bits"),
        (
            changed("data.deep", deep(100)),
            "data.deep" + ".a" * 99 + " is nested more than 100 levels deep",
        ),
        (changed("data", [1]), "data must be an object, got list"),
        (changed("data", "x"), "data must be an object, got str"),
        (changed("data.lines", (1,)), "data.lines is a tuple, which JSON cannot carry"),
        (changed("data.pic", b"x"), "data.pic is a bytes, which JSON cannot carry"),
        (changed("data.lines", [{"qty": math.nan}]), "data.lines[0].qty is not a finite number"),
        (changed("data.big", -math.inf), "data.big is not a finite number"),
        (changed("data.when", {"at": {1, 2}}), "data.when.at is a set, which JSON cannot carry"),
    ],
)
def test_each_problem_is_refused_with_a_message_saying_what(envelope: object, message: str) -> None:
    with pytest.raises(EventError) as raised:
        validate_envelope(envelope)
    assert str(raised.value) == message or str(raised.value).startswith(message)


def test_to_channel_adds_meta_channel_and_leaves_the_rest() -> None:
    envelope = Event("chat.Message", {"text": "hi"}, event_type="said").envelope()
    addressed = to_channel(envelope, "chat.room-1")
    assert addressed["meta"] == {**envelope["meta"], "channel": "chat.room-1"}
    assert (addressed["name"], addressed["data"]) == (envelope["name"], envelope["data"])
    assert "channel" not in envelope["meta"]
    assert validate_envelope(addressed) == addressed
    with pytest.raises(EventError):
        to_channel(envelope, "chat room")
