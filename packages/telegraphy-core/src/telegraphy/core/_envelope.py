"""The envelope: the one shape an event has on the wire, from web app to gateway to browser.

    {"name": "shop.Order",
     "meta": {"event_type": "create", "verbose_name": "Order", "timestamp": "...Z",
              "id": "..."},
     "data": {...}}

Defined once here; the gateway validates what it receives with `validate_envelope`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, TypedDict

from ._errors import EventError
from ._names import validate_event_name

REQUIRED_META = ("event_type", "timestamp", "id")
MAX_ID_LENGTH = 100
# What every WAMP serializer the gateway speaks can carry: MessagePack stops at 64-bit
# integers and at 512 levels of nesting (the EVENT message adds a few).
MAX_DEPTH = 100
INT_RANGE = range(-(2**63), 2**64)


class Envelope(TypedDict):
    name: str
    meta: dict[str, Any]
    data: dict[str, Any]


def validate_envelope(value: object) -> Envelope:
    """Return `value` as an `Envelope` if it is one; raise `EventError` saying what is wrong."""
    if not isinstance(value, dict):
        raise EventError(f"an event must be an object, got {_kind(value)}")
    keys = set(value)
    if keys != {"name", "meta", "data"}:
        missing, extra = {"name", "meta", "data"} - keys, keys - {"name", "meta", "data"}
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(sorted(missing))}" if missing else "",
                f"unknown {', '.join(sorted(map(str, extra)))}" if extra else "",
            )
            if part
        )
        raise EventError(f"an event has exactly the keys name, meta and data ({detail})")
    name = validate_event_name(value["name"])
    _check_json(name, "name")
    _check_meta(value["meta"])
    _check_json(value["data"], "data", require_object=True)
    return Envelope(name=name, meta=value["meta"], data=value["data"])


def to_channel(envelope: Envelope, channel: str) -> Envelope:
    """`envelope` for the subscribers of `channel` only: the gateway routes on meta.channel."""
    meta = {**envelope["meta"], "channel": validate_event_name(channel)}
    return {"name": envelope["name"], "meta": meta, "data": envelope["data"]}


def _check_meta(meta: object) -> None:
    if not isinstance(meta, dict):
        raise EventError(f"meta must be an object, got {_kind(meta)}")
    for key in REQUIRED_META:
        field = meta.get(key)
        if not isinstance(field, str) or not field:
            raise EventError(f"meta.{key} must be a non-empty string")
    if len(meta["id"]) > MAX_ID_LENGTH:
        raise EventError(f"meta.id is longer than {MAX_ID_LENGTH} characters")
    try:
        datetime.fromisoformat(meta["timestamp"].replace("Z", "+00:00"))
    except ValueError:
        raise EventError("meta.timestamp must be an ISO 8601 date and time") from None
    verbose_name = meta.get("verbose_name")
    if verbose_name is not None and not isinstance(verbose_name, str):
        raise EventError("meta.verbose_name must be a string or null")
    _check_json(meta, "meta", require_object=True)


def _check_json(value: object, where: str, require_object: bool = False) -> None:
    """Only what JSON can carry: objects with string keys, arrays, strings, numbers, bools, null."""
    if require_object and not isinstance(value, dict):
        raise EventError(f"{where} must be an object, got {_kind(value)}")
    stack: list[tuple[object, str, int]] = [(value, where, 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list) and depth > MAX_DEPTH:
            raise EventError(f"{path} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or not _encodable(key):
                    raise EventError(f"{path} has a key that is not valid text: {key!r}")
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            raise EventError(f"{path} is not a finite number")
        elif isinstance(item, int) and not isinstance(item, bool) and item not in INT_RANGE:
            raise EventError(f"{path} does not fit in 64 bits; send it as a string")
        elif isinstance(item, str) and not _encodable(item):
            raise EventError(f"{path} is not valid Unicode text (a lone surrogate)")
        elif item is not None and not isinstance(item, str | int | float | bool):
            raise EventError(f"{path} is a {_kind(item)}, which JSON cannot carry")


def _encodable(text: str) -> bool:
    """Whether `text` has a UTF-8 form (JSON's \\ud800 escapes decode to lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _kind(value: object) -> str:
    return type(value).__name__
