"""The one JSON conversion of event data: each supported type, nesting, and refusals by path."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from types import MappingProxyType
from typing import Any
from uuid import UUID

import pytest

from telegraphy.core import EventError, to_json_safe, validate_envelope

PARIS_SUMMER = timezone(timedelta(hours=2))


class Colour(Enum):
    RED = "red"
    WHEN = date(2024, 5, 1)


class Priority(IntEnum):
    HIGH = 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (7, 7),
        (2.5, 2.5),
        ("text", "text"),
        (datetime(2024, 5, 1, 12, 30, tzinfo=PARIS_SUMMER), "2024-05-01T10:30:00.000000Z"),
        (datetime(2024, 5, 1, 10, 30, 0, 123456, tzinfo=UTC), "2024-05-01T10:30:00.123456Z"),
        (datetime(2024, 5, 1, 10, 30), "2024-05-01T10:30:00.000000"),
        (date(2024, 5, 1), "2024-05-01"),
        (time(10, 30, 5), "10:30:05.000000"),
        (Decimal("19.90"), "19.90"),
        (Decimal("0.1000000000000000000000000001"), "0.1000000000000000000000000001"),
        (UUID("0b6a5e3c-1d2f-4e8a-9b7c-123456789abc"), "0b6a5e3c-1d2f-4e8a-9b7c-123456789abc"),
        (Colour.RED, "red"),
        (Colour.WHEN, "2024-05-01"),
        (Priority.HIGH, 1),
        ((1, "a"), [1, "a"]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        (OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
        (MappingProxyType({"a": (1,)}), {"a": [1]}),
    ],
)
def test_each_supported_type_converts_one_documented_way(value: object, expected: object) -> None:
    converted = to_json_safe(value)
    assert converted == expected
    assert type(converted) is type(expected)
    json.dumps(converted, allow_nan=False)


def test_nested_values_convert_and_share_nothing_mutable_with_the_input() -> None:
    tags = ["a"]
    data = {"order": {"lines": [{"price": Decimal("1.10"), "tags": tags}]}, "n": 1}
    converted = to_json_safe(data)
    assert converted == {"order": {"lines": [{"price": "1.10", "tags": ["a"]}]}, "n": 1}
    tags.append("b")
    assert converted["order"]["lines"][0]["tags"] == ["a"]
    assert converted is not data


def test_a_set_of_mixed_types_keeps_its_items() -> None:
    converted = to_json_safe({1, "a"})
    assert sorted(converted, key=str) == [1, "a"]


def test_subclasses_of_plain_types_become_the_plain_types() -> None:
    class Label(str):
        pass

    class Count(int):
        pass

    converted = to_json_safe({"label": Label("x"), "count": Count(3)})
    assert converted == {"label": "x", "count": 3}
    assert (type(converted["label"]), type(converted["count"])) == (str, int)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"avatar": b"\x89PNG"}, "data.avatar is bytes, which JSON cannot carry: decode it"),
        ({"a": [1, bytearray(b"x")]}, "data.a[1] is bytes"),
        ({"a": {"b": [0, {"c": math.nan}]}}, "data.a.b[1].c is not a finite number (nan)"),
        ({"score": math.inf}, "data.score is not a finite number (inf)"),
        ({"total": Decimal("NaN")}, "data.total is not a finite number (NaN)"),
        ({"scores": {1: "a"}}, "data.scores has a key that is not a string: 1"),
        ({"opens": time(9, tzinfo=UTC)}, "data.opens is a time with a time zone"),
        ({"late": timedelta(1)}, "data.late is of type timedelta, which JSON cannot carry"),
        ({"items": (i for i in [1])}, "data.items is of type generator, which JSON cannot carry"),
        ({"x": object()}, "data.x is of type object, which JSON cannot carry"),
        ({"when": [Colour.RED, {"c": Priority.HIGH, "e": b""}]}, "data.when[1].e is bytes"),
    ],
)
def test_refusals_name_the_path_and_the_problem(value: object, message: str) -> None:
    with pytest.raises(EventError) as raised:
        to_json_safe(value, "data")
    assert str(raised.value).startswith(message)


def test_the_default_path_and_a_refused_top_level_value() -> None:
    with pytest.raises(EventError, match=r"^value is bytes"):
        to_json_safe(b"x")


def test_a_structure_that_contains_itself_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(EventError, match=r"^data\.loop(\[0\]){99} is nested more than 100 levels"):
        to_json_safe({"loop": loop}, "data")


def nested(levels: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _ in range(levels - 1):
        data = {"a": data}
    return data


@pytest.mark.parametrize(
    ("data", "accepted"),
    [
        ({"n": -(2**63), "m": 2**64 - 1}, True),
        ({"n": -(2**63) - 1}, False),
        ({"n": [2**64]}, False),
        ({"n": Priority.HIGH, "big": 10**30}, False),
        ({"text": "ünïcödé \U0001f600"}, True),
        ({"text": "lone \ud800"}, False),
        ({"ok\u00e9": 1, "bad\udfff": 1}, False),
        (nested(100), True),
        (nested(101), False),
    ],
)
def test_the_gateway_accepts_exactly_what_the_conversion_accepts(
    data: dict[str, Any], accepted: bool
) -> None:
    """What to_json_safe lets through must pass validate_envelope at the gateway, and no more."""
    meta = {"event_type": "x", "timestamp": "2024-05-01T00:00:00Z", "id": "1"}
    envelope: dict[str, Any] = {"name": "a.b", "meta": meta}
    if accepted:
        envelope["data"] = to_json_safe(data, "data")
        assert validate_envelope(envelope) == envelope
        return
    with pytest.raises(EventError) as converting:
        to_json_safe(data, "data")
    with pytest.raises(EventError) as validating:
        validate_envelope({**envelope, "data": data})
    assert str(converting.value).split(" ")[0] == str(validating.value).split(" ")[0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"n": 2**64},
            "data.n does not fit in 64 bits (18446744073709551616); send it as a string",
        ),
        ({"t": ["\ud800"]}, "data.t[0] is not valid Unicode text (it has a lone surrogate)"),
        (
            {"\ud800": 1},
            "data has a key that is not valid Unicode text (a lone surrogate): '\\ud800'",
        ),
    ],
)
def test_what_the_gateway_would_refuse_is_refused_here_first(value: object, message: str) -> None:
    with pytest.raises(EventError) as raised:
        to_json_safe(value, "data")
    assert str(raised.value) == message


def test_a_key_with_braces_does_not_break_the_message() -> None:
    with pytest.raises(EventError, match=r"^data\.\{x\} is bytes"):
        to_json_safe({"{x}": b""}, "data")
