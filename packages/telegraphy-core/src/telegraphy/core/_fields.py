"""The typed fields of a declared event class, and the checks made from their annotations.

Supported: int, float (an int is accepted), str, bool (not accepted for int or float), datetime,
date (not a datetime), time, Decimal, UUID, Enum classes, Literal[...], X | None and other
unions, list[X], dict[str, X], Any. A check returns None when a value fits, else the end of a
message: ": expected int, got str '1'" or "[2]: expected str, got int 5".
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Literal, Union, get_args, get_origin
from uuid import UUID

Check = Callable[[object], str | None]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_SCALARS = (str, bool, datetime, time, Decimal, UUID)


@dataclass(frozen=True, slots=True)
class Field:
    check: Check
    default: object = MISSING

    @property
    def required(self) -> bool:
        return self.default is MISSING


def declared_fields(cls: type, base: type, reserved: frozenset[str]) -> dict[str, Field]:
    """The fields `cls` and its parents below `base` annotate, in declaration order."""
    names = [
        name
        for klass in reversed(cls.__mro__)
        if issubclass(klass, base) and klass is not base
        for name in vars(klass).get("__annotations__", {})
    ]
    try:
        hints = typing.get_type_hints(cls)
    except NameError as e:
        raise TypeError(f"{cls.__qualname__}: cannot resolve a field's annotation: {e}") from None
    fields: dict[str, Field] = {}
    for name in dict.fromkeys(names):
        hint = hints[name]
        if get_origin(hint) is ClassVar:
            continue
        where = f"{cls.__qualname__}.{name}"
        if name in reserved or name.startswith("_"):
            raise TypeError(
                f"{where}: {name!r} cannot name a field (reserved: "
                f"{', '.join(sorted(reserved))}, and private names); rename the field"
            )
        fields[name] = _field(where, hint, getattr(cls, name, MISSING))
    return fields


def _field(where: str, hint: object, default: object) -> Field:
    try:
        check = checker(hint)
    except TypeError as e:
        raise TypeError(f"{where}: {e}") from None
    if default is not MISSING:
        if isinstance(default, list | dict | set):
            raise TypeError(f"{where}: a mutable default is shared by every event; use None")
        problem = check(default)
        if problem is not None:
            raise TypeError(f"{where}: the default does not fit the type{problem}")
    return Field(check, default)


def checker(hint: object) -> Check:
    """The check for values of the type `hint`; TypeError if the type is not supported."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any or hint is object:
        return _anything
    if hint is None or hint is type(None):
        return _expect(lambda v: v is None, "None")
    if origin is Literal:
        return _literal(args)
    if origin is Union or origin is types.UnionType:
        return _union([checker(arg) for arg in args], describe(hint))
    if hint is list or origin is list:
        return _list(checker(args[0]) if args else _anything, describe(hint))
    if hint is dict or origin is dict:
        if args and args[0] is not str:
            raise TypeError(f"dict keys must be str (JSON object keys are), not {args[0]!r}")
        return _dict(checker(args[1]) if args else _anything, describe(hint))
    if hint is int:
        return _expect(lambda v: isinstance(v, int) and not isinstance(v, bool), "int")
    if hint is float:
        return _expect(lambda v: isinstance(v, int | float) and not isinstance(v, bool), "float")
    if hint is date:
        return _expect(lambda v: isinstance(v, date) and not isinstance(v, datetime), "date")
    if hint in _SCALARS or (isinstance(hint, type) and issubclass(hint, Enum)):
        kind: type = hint
        return _expect(lambda v: isinstance(v, kind), kind.__name__)
    raise TypeError(
        f"unsupported type {describe(hint)}; use int, float, str, bool, datetime, date, time, "
        "Decimal, UUID, an Enum, Literal[...], list[...], dict[str, ...], Any, or X | None"
    )


def describe(hint: object) -> str:
    """How a type reads in messages: "int", "list[str]", "str | None", "'a' or 'b'"."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is None or hint is type(None):
        return "None"
    if origin is Literal:
        return " or ".join(repr(arg) for arg in args)
    if origin is Union or origin is types.UnionType:
        return " | ".join(describe(arg) for arg in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', origin)}[{', '.join(map(describe, args))}]"
    return getattr(hint, "__name__", repr(hint))


def _anything(value: object) -> None:
    return None


def _expect(test: Callable[[object], bool], expected: str) -> Check:
    def check(value: object) -> str | None:
        return None if test(value) else _mismatch(expected, value)

    return check


def _literal(choices: tuple[object, ...]) -> Check:
    # Compared with the type too: True == 1, but True is not the literal 1.
    allowed = {(type(choice), choice) for choice in choices}
    expected = " or ".join(repr(choice) for choice in choices)

    def check(value: object) -> str | None:
        try:
            if (type(value), value) in allowed:
                return None
        except TypeError:  # unhashable, so not one of the choices
            pass
        return _mismatch(expected, value)

    return check


def _union(checks: list[Check], expected: str) -> Check:
    def check(value: object) -> str | None:
        if any(one(value) is None for one in checks):
            return None
        return _mismatch(expected, value)

    return check


def _list(item: Check, expected: str) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, list):
            return _mismatch(expected, value)
        for index, element in enumerate(value):
            problem = item(element)
            if problem is not None:
                return f"[{index}]{problem}"
        return None

    return check


def _dict(item: Check, expected: str) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, dict):
            return _mismatch(expected, value)
        for key, element in value.items():
            if not isinstance(key, str):
                return f": expected str keys, got {type(key).__name__} {key!r}"
            problem = item(element)
            if problem is not None:
                return f".{key}{problem}"
        return None

    return check


def _mismatch(expected: str, value: object) -> str:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f": expected {expected}, got {type(value).__name__} {shown}"
