"""Events: what a web app sends to the browser, made generically or declared as classes.

    Event("shop.Order", {"id": 1}, event_type="create", verbose_name="Order").send()

    class OrderShipped(Event):
        name = "shop.OrderShipped"
        order_id: int
        shipped_at: datetime

    OrderShipped(order_id=1, shipped_at=now).send()

An event is checked and its data converted (`to_json_safe`) once, when it is made; after that
it is immutable, and `envelope()` and `send()` only hand on what was built.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, dataclass_transform

from ._envelope import Envelope
from ._errors import EventError
from ._fields import MISSING, Field, declared_fields
from ._jsonsafe import to_json_safe
from ._names import validate_event_name

# Meta keys an event sets itself; extra meta may not replace them.
OWN_META = frozenset({"event_type", "verbose_name", "timestamp", "id"})
# What an Event is made of: a declared class may not use these names for data fields.
RESERVED = frozenset({"name", "verbose_name", "event_type", "data", "meta", "envelope", "send"})


class Sender(Protocol):
    """Whatever takes envelopes towards the gateway: the publisher, or a test's recorder."""

    def send(self, envelope: Envelope) -> None: ...


class EventRecorder(list[Envelope]):
    """A `Sender` that keeps what it is given (the adapters' `capture_events()` yield one)."""

    def send(self, envelope: Envelope) -> None:
        self.append(envelope)


# Declared subclasses take their fields as keyword arguments; type checkers see that.
@dataclass_transform(kw_only_default=True, eq_default=False, frozen_default=True)
class Event:
    """An event: a name, JSON-safe `data`, and `meta` (event_type, verbose_name, timestamp, id).

    Subclasses declare typed fields as annotations and take them as keyword arguments.
    """

    name: str
    verbose_name: str | None = None
    event_type: str = "custom"
    data: dict[str, Any]
    meta: dict[str, Any]
    _fields: ClassVar[dict[str, Field]] = {}

    def __init__(
        self,
        name: str,
        data: Mapping[str, object] | None = None,
        *,
        event_type: str = "custom",
        verbose_name: str | None = None,
        meta: Mapping[str, object] | None = None,
    ) -> None:
        if data is None:
            data = {}
        elif not isinstance(data, Mapping):
            raise EventError(f"data must be a mapping of names to values, got {_kind(data)}")
        if not isinstance(event_type, str) or not event_type:
            raise EventError(f"event_type must be a non-empty string, got {event_type!r}")
        if verbose_name is not None and not isinstance(verbose_name, str):
            raise EventError(f"verbose_name must be a string or None, got {_kind(verbose_name)}")
        self._seal(
            validate_event_name(name),
            to_json_safe(data, "data"),
            event_type,
            verbose_name,
            _extra_meta(meta),
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        # Name, type and verbose name are each class's own: a subclass does not inherit them.
        words = _words(cls.__name__)
        if "name" not in own:
            cls.name = cls.__name__
        if "event_type" not in own:
            cls.event_type = "_".join(word.lower() for word in words)
        if "verbose_name" not in own:
            cls.verbose_name = _sentence(words)
        _check_class(cls)
        # A class with its own constructor makes its data itself; the others declare fields.
        if "__init__" not in own and cls.__init__ in (Event.__init__, _init_declared):
            cls._fields = declared_fields(cls, Event, RESERVED)
            cls.__init__ = _init_declared  # type: ignore[assignment,method-assign]

    def _seal(
        self,
        name: str,
        data: dict[str, Any],
        event_type: str,
        verbose_name: str | None,
        extra_meta: dict[str, Any] | None,
    ) -> None:
        meta = {
            "event_type": event_type,
            "verbose_name": verbose_name,
            "timestamp": _timestamp(),
            "id": uuid.uuid4().hex,
        }
        if extra_meta:
            meta.update(extra_meta)
        attributes = self.__dict__
        attributes["name"] = name
        attributes["event_type"] = event_type
        attributes["verbose_name"] = verbose_name
        attributes["data"] = data
        attributes["meta"] = meta

    def envelope(self) -> Envelope:
        """The event as it travels: `{"name": ..., "meta": {...}, "data": {...}}`."""
        return {"name": self.name, "meta": self.meta, "data": self.data}

    def send(self, publisher: Sender | None = None) -> None:
        """Hand the event to `publisher`, by default the one `telegraphy.core.configure` made."""
        if publisher is None:
            # Imported on first use: an event can be made and tested without the transports.
            from ._publisher import default_publisher

            publisher = default_publisher()
        publisher.send(self.envelope())

    def __setattr__(self, name: str, value: object) -> None:
        # What was checked and converted stays as it was; private attributes are free.
        if not name.startswith("_"):
            raise AttributeError(f"an event cannot be changed once made: make a new {_kind(self)}")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if not name.startswith("_"):
            raise AttributeError(f"an event cannot be changed once made: make a new {_kind(self)}")
        super().__delattr__(name)

    def __repr__(self) -> str:
        return (
            f"<{_kind(self)} {self.name} {self.meta['event_type']} id={self.meta['id']} "
            f"data={self.data!r}>"
        )


def _init_declared(self: Event, **values: object) -> None:
    """The constructor of a declared event class: one keyword argument per field."""
    cls = type(self)
    fields = cls._fields
    if not values.keys() <= fields.keys():
        unknown = ", ".join(sorted(values.keys() - fields.keys()))
        known = ", ".join(sorted(fields)) or "none"
        raise EventError(f"{cls.__name__}: unknown field(s) {unknown}; its fields: {known}")
    data: dict[str, object] = {}
    for name, field in fields.items():
        value = values.get(name, field.default)
        if value is MISSING:
            missing = ", ".join(n for n, f in fields.items() if n not in values and f.required)
            raise EventError(f"{cls.__name__}: missing required field(s) {missing}")
        problem = field.check(value)
        if problem is not None:
            raise EventError(f"{cls.__name__}.{name}{problem}")
        data[name] = value
    self.__dict__.update(data)
    self._seal(cls.name, to_json_safe(data, cls.__name__), cls.event_type, cls.verbose_name, None)


def _check_class(cls: type[Event]) -> None:
    try:
        validate_event_name(cls.name)
    except EventError as e:
        raise TypeError(f"{cls.__qualname__}.name: {e}") from None
    if not isinstance(cls.event_type, str) or not cls.event_type:
        raise TypeError(f"{cls.__qualname__}.event_type must be a non-empty string")
    if cls.verbose_name is not None and not isinstance(cls.verbose_name, str):
        raise TypeError(f"{cls.__qualname__}.verbose_name must be a string or None")


def _extra_meta(meta: Mapping[str, object] | None) -> dict[str, Any] | None:
    if not meta:
        return None
    clash = OWN_META.intersection(meta)
    if clash:
        raise EventError(
            f"meta may not set {', '.join(sorted(clash))}: the event sets those itself"
        )
    converted: dict[str, Any] = to_json_safe(meta, "meta")
    return converted


# The formatted second of the last timestamp: events come in bursts, strftime is the slow part.
_second: tuple[int, str] = (-1, "")


def _timestamp() -> str:
    """Now, in UTC, to the millisecond: "2024-05-01T10:30:00.123Z" (JavaScript's own form)."""
    global _second
    seconds, milliseconds = divmod(time.time_ns() // 1_000_000, 1000)
    cached, text = _second  # one read: another thread may replace the pair meanwhile
    if cached != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second = (seconds, text)
    return f"{text}.{milliseconds:03d}Z"


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[0-9]+|[A-Z]+")


def _words(class_name: str) -> list[str]:
    """ "OrderShipped" -> ["Order", "Shipped"]; "HTTPCheckFailed" -> ["HTTP", "Check", "Failed"]."""
    return _WORD.findall(class_name) or [class_name]


def _sentence(words: list[str]) -> str:
    """["Order", "Shipped"] -> "Order shipped", keeping acronyms ("HTTP check failed")."""
    text = " ".join(word if word.isupper() else word.lower() for word in words)
    return text[:1].upper() + text[1:]


def _kind(value: object) -> str:
    return type(value).__name__
