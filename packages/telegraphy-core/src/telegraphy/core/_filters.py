"""Filters, the event query language: the one JSON form a subscription and a token carry,
checked and brought to canonical form here (the gateway compiles it); `F` writes one in Python.

    {"status": "paid", "total__gt": 100}            both conditions (and)
    {"or": [{"customer__id": 3}, {"meta__event_type": "delete"}]}
    {"not": {"status__in": ["draft", "void"]}}

A key is a path of fields joined by `__` (under `data` unless it starts with `data` or `meta`),
then a lookup. The canonical form names the root and the lookup of every condition, flattens
and sorts `and`/`or`: equal filters have equal canonical text (docs/filters.rst).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from typing import Any

from ._errors import EventError, FilterError
from ._jsonsafe import to_json_safe

LOOKUPS = (
    "exact",
    "iexact",
    "contains",
    "icontains",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "range",
    "isnull",
)
ROOTS = ("data", "meta")
MAX_DEPTH = 8
"""Levels of `and` / `or` / `not` one filter may nest."""
MAX_CONDITIONS = 64
MAX_VALUES = 256
"""Values one `in` may list."""
MAX_TEXT = 1024
"""Characters of a key or of a string value."""
MAX_PATH = 8
"""Fields one path may go through."""
MAX_SIZE = 16_384
"""Characters of a filter's canonical text."""

_TEXT_LOOKUPS = ("iexact", "icontains", "startswith", "istartswith", "endswith", "iendswith")
_ORDERED = ("gt", "gte", "lt", "lte")


def canonical_filter(value: object) -> dict[str, Any] | None:
    """`value` (the JSON form, or an `F`) checked and in canonical form; None when it lets
    every event through. `FilterError` says what is wrong."""
    node = _node(value, "filter", 0, [0])
    if len(_text(node)) > MAX_SIZE:
        raise FilterError(f"the filter is longer than {MAX_SIZE} characters")
    return node or None


def filter_text(node: Mapping[str, Any] | None) -> str | None:
    """The canonical text of a canonical filter: equal filters, equal text."""
    return None if node is None else _text(dict(node))


def conjoin_filters(*nodes: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The canonical filter that lets through what every one of `nodes` does."""
    return _and([dict(n) for n in nodes if n is not None]) or None


class F:
    """A filter written in Python, like Django's `Q`: `F(customer__id=3) | F(status="paid")`,
    `F(total__gt=100) & ~F(status__in=["void"])`. `F()` lets every event through.

    Values go through `to_json_safe`, so a datetime or a Decimal compares with the event data
    the way it is sent. `to_json()` is the wire form."""

    __slots__ = ("_node",)

    def __init__(self, *filters: F | Mapping[str, Any], **lookups: Any) -> None:
        parts: list[Any] = [_wire(f) for f in filters]
        if lookups:
            try:
                parts.append({k: to_json_safe(v, k) for k, v in lookups.items()})
            except EventError as e:
                raise FilterError(str(e)) from None
        self._node = canonical_filter({"and": parts} if parts else {}) or {}

    def to_json(self) -> dict[str, Any]:
        return self._node

    def __and__(self, other: F | Mapping[str, Any]) -> F:
        return F({"and": [self._node, _wire(other)]})

    def __or__(self, other: F | Mapping[str, Any]) -> F:
        return F({"or": [self._node, _wire(other)]})

    def __invert__(self) -> F:
        return F({"not": self._node})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, F) and filter_text(self._node) == filter_text(other._node)

    def __hash__(self) -> int:
        return hash(filter_text(self._node))

    def __repr__(self) -> str:
        return f"F({filter_text(self._node)})"


def _wire(value: F | Mapping[str, Any]) -> Any:
    if isinstance(value, F):
        return value.to_json()
    return dict(value) if isinstance(value, Mapping) else value


def _node(value: object, where: str, depth: int, count: list[int]) -> dict[str, Any]:
    value = _wire(value) if isinstance(value, F) else value
    if not isinstance(value, dict):
        raise FilterError(f"{where} must be an object, got {_kind(value)}")
    if depth > MAX_DEPTH:
        raise FilterError(f"the filter nests and/or/not deeper than {MAX_DEPTH} levels")
    parts = []
    for key, item in value.items():
        if key in ("and", "or"):
            parts.append(_combined(key, item, f"{where}.{key}", depth, count))
        elif key == "not":
            parts.append(_not(_node(item, f"{where}.not", depth + 1, count)))
        else:
            count[0] += 1
            if count[0] > MAX_CONDITIONS:
                raise FilterError(f"the filter has more than {MAX_CONDITIONS} conditions")
            parts.append(_condition(key, item, where))
    return _and(parts)


def _combined(key: str, items: object, where: str, depth: int, count: list[int]) -> Any:
    if not isinstance(items, list) or not items:
        raise FilterError(f"{where} must be a non-empty list of filters")
    nodes = [_node(item, f"{where}[{i}]", depth + 1, count) for i, item in enumerate(items)]
    return _and(nodes) if key == "and" else _or(nodes)


def _and(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    flat = [c for n in nodes for c in (n["and"] if set(n) == {"and"} else [n]) if c]
    return _group("and", flat)


def _or(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    if any(not n for n in nodes):  # one branch lets everything through
        return {}
    return _group("or", [c for n in nodes for c in (n["or"] if set(n) == {"or"} else [n])])


def _group(key: str, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    unique = {_text(n): n for n in nodes}
    if len(unique) == 1:
        return next(iter(unique.values()))
    return {key: [unique[t] for t in sorted(unique)]} if unique else {}


def _text(node: dict[str, Any]) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _not(node: dict[str, Any]) -> dict[str, Any]:
    if set(node) == {"not"}:
        inner: dict[str, Any] = node["not"]
        return inner
    return {"not": node}


def _condition(key: object, value: object, where: str) -> dict[str, Any]:
    if not isinstance(key, str) or len(key) > MAX_TEXT:
        raise FilterError(f"{where} has a key that is not a field path: {repr(key)[:80]}")
    parts = key.split("__")
    explicit = len(parts) > 1 and parts[-1] in LOOKUPS
    lookup = parts.pop() if explicit else "exact"
    _check_path(key, parts, explicit)
    if parts[0] not in ROOTS:
        parts.insert(0, "data")
    if lookup == "exact" and value is None:
        lookup, value = "isnull", True
    value = _value(key, lookup, value)
    return {"__".join([*parts, lookup]): value}


def _check_path(key: str, parts: list[str], explicit: bool) -> None:
    if not all(parts) or len(parts) > MAX_PATH:
        raise FilterError(
            f"{key!r} is not a field path: up to {MAX_PATH} field names joined by '__', "
            "then a lookup"
        )
    near = difflib.get_close_matches(parts[-1], LOOKUPS, n=1, cutoff=0.8)
    if not explicit and len(parts) > 1 and near:
        raise FilterError(
            f"{key!r}: unknown lookup {parts[-1]!r} (did you mean {near[0]!r}? for a field "
            f"named {parts[-1]!r}, write '{key}__exact'); lookups: {', '.join(LOOKUPS)}"
        )


def _value(key: str, lookup: str, value: object) -> Any:
    if lookup == "isnull":
        if not isinstance(value, bool):
            raise FilterError(f"{key!r} needs true or false")
        return value
    if lookup == "in":
        return _in(key, value)
    if lookup == "range":
        return _range(key, value)
    if lookup in _ORDERED:
        if not (_is_number(value) or isinstance(value, str)):
            raise FilterError(f"{key!r} needs a number or a string, got {_kind(value)}")
    elif lookup in _TEXT_LOOKUPS:
        if not isinstance(value, str):
            raise FilterError(f"{key!r} needs a string, got {_kind(value)}")
    elif not _is_scalar(value) or value is None:
        raise FilterError(f"{key!r} needs a string, a number, true or false, got {_kind(value)}")
    _check_text(key, value)
    return value


def _in(key: str, value: object) -> list[Any]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_VALUES:
        raise FilterError(f"{key!r} needs a list of 1 to {MAX_VALUES} values")
    if not all(_is_scalar(v) and v is not None for v in value):
        raise FilterError(f"{key!r} lists strings, numbers, true or false (for null: isnull)")
    for v in value:
        _check_text(key, v)
    unique = {json.dumps(v, sort_keys=True): v for v in value}
    return [unique[t] for t in sorted(unique)]


def _range(key: str, value: object) -> list[Any]:
    if isinstance(value, list) and len(value) == 2:
        low, high = value
        if (_is_number(low) and _is_number(high)) or (
            isinstance(low, str) and isinstance(high, str)
        ):
            _check_text(key, low)
            _check_text(key, high)
            return [low, high]
    raise FilterError(f"{key!r} needs [low, high]: two numbers or two strings")


def _check_text(key: str, value: object) -> None:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise FilterError(f"{key!r}: a string value is longer than {MAX_TEXT} characters")


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "a number JSON cannot carry"
    return names.get(type(value), "a number" if _is_number(value) else type(value).__name__)
