"""Filters at the gateway: a filter is checked once (by the core's rules), compiled once into a
predicate over the event's data and meta (closures, never eval), and shared by every
subscription whose filter has the same canonical text (docs/filters.rst)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegraphy.core import FilterError, canonical_filter, filter_text

from ..engines.base import Draft
from ..errors import InvalidArgument
from .uri import Pattern

Document = tuple[Any, Any]
"""What a filter reads: the event's (data, meta)."""
Test = Callable[[Any], bool]

_MISSING: Any = object()
_CACHE_SIZE = 10_000


@dataclass(frozen=True, eq=False, slots=True)
class Filter:
    """A compiled filter: `key` is its canonical text, `node` its canonical form."""

    key: str
    node: dict[str, Any]
    test: Callable[[Document], bool]


class Compiler:
    """Compiles canonical filters, once per canonical text while they are in use."""

    def __init__(self) -> None:
        self._compiled: dict[str, Filter] = {}

    def compile(self, node: dict[str, Any] | None) -> Filter | None:
        key = filter_text(node)
        if node is None or key is None:
            return None
        found = self._compiled.get(key)
        if found is None:
            if len(self._compiled) >= _CACHE_SIZE:
                self._compiled.clear()
            found = self._compiled[key] = Filter(key, node, _compile(node))
        return found


def asked(pattern: Pattern, option: object) -> Pattern:
    """`pattern` with the subscriber's own `filter` option, checked; `InvalidArgument` says what
    is wrong. The option is kept as the client gave it (keys sorted), so that a resumed client
    recognizes its subscriptions; a filter that lets everything through is none."""
    if option is None:
        return pattern
    try:
        if canonical_filter(option) is None:
            return pattern
    except FilterError as e:
        raise InvalidArgument(f"invalid filter: {e}") from None
    text = json.dumps(option, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return Pattern(pattern.uri, pattern.match, text)


def own_filter(pattern: Pattern) -> dict[str, Any] | None:
    """The canonical form of the subscriber's own filter that `pattern` carries."""
    if pattern.filter is None:
        return None
    try:
        return canonical_filter(json.loads(pattern.filter))
    except FilterError as e:  # kept by an older gateway with other limits
        raise InvalidArgument(f"invalid filter: {e}") from None


def document(draft: Draft) -> Document:
    """What filters read of a publication: a Telegraphy event's data and meta; for other
    publications, the first argument if it is an object, else the keyword arguments."""
    first = draft.args[0] if draft.args else None
    if isinstance(first, dict):
        if "data" in first:
            return first["data"], first.get("meta", _MISSING)
        return first, _MISSING
    return (draft.kwargs if draft.kwargs is not None else _MISSING), _MISSING


def _compile(node: Mapping[str, Any]) -> Callable[[Document], bool]:
    ((key, value),) = node.items()
    if key == "and":
        parts = [_compile(n) for n in value]
        return lambda d: all(p(d) for p in parts)
    if key == "or":
        parts = [_compile(n) for n in value]
        return lambda d: any(p(d) for p in parts)
    if key == "not":
        inner = _compile(value)
        return lambda d: not inner(d)
    *path, lookup = key.split("__")
    get = _getter(0 if path[0] == "data" else 1, path[1:])
    test = _TESTS[lookup](value)
    return lambda d: test(get(d))


def _getter(root: int, path: list[str]) -> Callable[[Document], Any]:
    steps = [(p, int(p) if p.isascii() and p.isdigit() else None) for p in path]

    def get(doc: Document) -> Any:
        value = doc[root]
        for name, index in steps:
            if isinstance(value, dict):
                value = value.get(name, _MISSING)
            elif index is not None and isinstance(value, list) and index < len(value):
                value = value[index]
            else:
                return _MISSING
        return value

    return get


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _same_kind(a: Any, b: Any) -> bool:
    """Whether `a` and `b` may be ordered: two numbers or two strings (never bool)."""
    return (_number(a) and _number(b)) or (type(a) is str and type(b) is str)


def _tag(value: Any) -> tuple[str, Any] | None:
    """A JSON scalar with its kind, so that true never equals 1."""
    if type(value) is bool:
        return ("b", value)
    if _number(value):
        return ("n", value)
    if type(value) is str:
        return ("s", value)
    return None


def _exact(value: Any) -> Test:
    tag = _tag(value)
    return lambda f: _tag(f) == tag


def _iexact(value: str) -> Test:
    folded = value.casefold()
    return lambda f: type(f) is str and f.casefold() == folded


def _contains(value: Any) -> Test:
    same = _exact(value)
    text = type(value) is str

    def test(f: Any) -> bool:
        if type(f) is str:
            return text and value in f
        return type(f) is list and any(same(x) for x in f)

    return test


def _icontains(value: str) -> Test:
    folded = value.casefold()

    def test(f: Any) -> bool:
        if type(f) is str:
            return folded in f.casefold()
        return type(f) is list and any(type(x) is str and x.casefold() == folded for x in f)

    return test


def _in(values: list[Any]) -> Test:
    tags = {_tag(v) for v in values}
    return lambda f: _tag(f) in tags


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any], Test]:
    return lambda value: lambda f: _same_kind(f, value) and compare(f, value)


def _range(bounds: list[Any]) -> Test:
    low, high = bounds
    return lambda f: _same_kind(f, low) and low <= f <= high


def _text(check: Callable[[str, str], bool], fold: bool) -> Callable[[str], Test]:
    def make(value: str) -> Test:
        wanted = value.casefold() if fold else value
        return lambda f: type(f) is str and check(f.casefold() if fold else f, wanted)

    return make


def _isnull(value: bool) -> Test:
    return lambda f: (f is None or f is _MISSING) is value


_TESTS: dict[str, Callable[[Any], Test]] = {
    "exact": _exact,
    "iexact": _iexact,
    "contains": _contains,
    "icontains": _icontains,
    "in": _in,
    "gt": _ordered(lambda a, b: a > b),
    "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "lte": _ordered(lambda a, b: a <= b),
    "range": _range,
    "startswith": _text(str.startswith, False),
    "istartswith": _text(str.startswith, True),
    "endswith": _text(str.endswith, False),
    "iendswith": _text(str.endswith, True),
    "isnull": _isnull,
}
