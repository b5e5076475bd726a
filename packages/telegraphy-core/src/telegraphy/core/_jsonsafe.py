"""The one conversion from Python values to what JSON carries, used for every event's data.

    datetime (aware)  -> "2024-05-01T10:30:00.000000Z"  (in UTC, always six fraction digits)
    datetime (naive)  -> "2024-05-01T10:30:00.000000"   (as given, no offset)
    date              -> "2024-05-01"
    time (naive)      -> "10:30:00.000000"
    Decimal           -> "19.90"   (a string: a JavaScript number would round it)
    UUID              -> "0b6a...": the hyphenated lowercase form
    Enum              -> its value, converted in turn
    tuple, list       -> list;  set, frozenset -> list, sorted when the items can be sorted
    Mapping           -> dict, keys must be strings

Everything else is refused with an `EventError` naming where the value is (`data.avatar`):
bytes, nan and infinities, aware times, other objects, and what the gateway would refuse
(`validate_envelope`): integers beyond 64 bits, text with lone surrogates, more than
`MAX_DEPTH` levels of nesting. The result is a new structure that shares nothing mutable with
the input: an event is a snapshot of its data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from ._envelope import INT_RANGE, MAX_DEPTH, _encodable
from ._errors import EventError

_INT_MIN, _INT_END = INT_RANGE.start, INT_RANGE.stop


def to_json_safe(value: object, path: str = "value") -> Any:
    """`value` as plain JSON types (see the module docstring); `path` names it in errors."""
    try:
        return _convert(value, 1)
    except _Refused as refused:
        where = path + "".join(reversed(refused.where))
        raise EventError(f"{where} {refused.message}") from None


class _Refused(Exception):
    """A value JSON cannot carry: `message` says why, `where` collects its path, innermost first."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.where: list[str] = []


def _convert(value: object, depth: int) -> Any:
    # Exact types first, in order of how common they are: this runs in the caller's send().
    if type(value) is str:
        return value if value.isascii() else _text(value)
    if type(value) is int:
        return value if _INT_MIN <= value < _INT_END else _big(value)
    if type(value) is bool or value is None:
        return value
    if type(value) is dict:
        return _mapping(value, depth)
    if type(value) is list or type(value) is tuple:
        return _sequence(value, depth)
    if type(value) is float:
        return _float(value)
    return _other(value, depth)


def _mapping(value: Mapping[object, object], depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise _Refused(f"is nested more than {MAX_DEPTH} levels deep (or contains itself)")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str or not key.isascii():
            _key(key)
        try:
            out[key] = _convert(item, depth + 1)  # type: ignore[index]  # _key() saw a str
        except _Refused as refused:
            refused.where.append(f".{key}")
            raise
    return out


def _sequence(value: list[object] | tuple[object, ...], depth: int) -> list[Any]:
    if depth > MAX_DEPTH:
        raise _Refused(f"is nested more than {MAX_DEPTH} levels deep (or contains itself)")
    out: list[Any] = []
    for item in value:
        try:
            out.append(_convert(item, depth + 1))
        except _Refused as refused:
            refused.where.append(f"[{len(out)}]")
            raise
    return out


def _key(key: object) -> None:
    if not isinstance(key, str):
        raise _Refused(f"has a key that is not a string: {key!r}")
    if not _encodable(key):
        raise _Refused(f"has a key that is not valid Unicode text (a lone surrogate): {key!r}")


def _text(value: str) -> str:
    if not _encodable(value):
        raise _Refused("is not valid Unicode text (it has a lone surrogate)")
    return value


def _big(value: int) -> int:
    raise _Refused(f"does not fit in 64 bits ({value}); send it as a string")


def _float(value: float) -> float:
    if not math.isfinite(value):
        raise _Refused(f"is not a finite number ({value!r}); JSON has no such number")
    return value


def _other(value: object, depth: int) -> Any:
    # Enum first: an IntEnum is an int and a StrEnum a str, but their value is what is meant.
    if isinstance(value, Enum):
        return _convert(value.value, depth)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _convert(int(value), depth)
    if isinstance(value, str):
        return _convert(str.__str__(value), depth)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, datetime):
        return _datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _time(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return _mapping(value, depth)
    if isinstance(value, list | tuple):
        return _sequence(value, depth)
    if isinstance(value, set | frozenset):
        return _sequence(_sorted(value), depth)
    if isinstance(value, bytes | bytearray | memoryview):
        raise _Refused("is bytes, which JSON cannot carry: decode it to text, or to base64, first")
    raise _Refused(
        f"is of type {type(value).__name__}, which JSON cannot carry: convert it to one of "
        "the supported types first"
    )


def _datetime(value: datetime) -> str:
    if value.utcoffset() is None:
        return value.isoformat(timespec="microseconds")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def _time(value: time) -> str:
    # A time's offset can depend on the date (daylight saving), so it has no UTC form alone.
    if value.tzinfo is not None:
        raise _Refused(
            "is a time with a time zone, which has no UTC form without a date: "
            "send a datetime, or a naive time"
        )
    return value.isoformat(timespec="microseconds")


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise _Refused(f"is not a finite number ({value}); JSON has no such number")
    return str(value)


def _sorted(items: set[object] | frozenset[object]) -> list[object]:
    # Sorted so the same set always gives the same list; mixed types keep iteration order.
    try:
        return sorted(items)  # type: ignore[type-var]  # TypeError below if not comparable
    except TypeError:
        return list(items)
