"""Class-based event definitions: model events (`BaseEventModel`), channels, custom events.

    class MyModelEvents(BaseEventModel):
        model = MyModel

    MyModelEvents().register()

A registered model event fires on create, update and delete of the model's instances through
an SQLAlchemy session, once that session's transaction commits (see `_session`).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import re
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper

from telegraphy.core import ConfigurationError, Event, validate_event_name

OP_CREATE = "create"
OP_UPDATE = "update"
OP_DELETE = "delete"
OPERATIONS = (OP_CREATE, OP_UPDATE, OP_DELETE)

# Values JSON carries (through to_json_safe) as they are; any other column value goes as text.
_PLAIN = (
    str,
    int,
    float,
    bool,
    type(None),
    decimal.Decimal,
    datetime.date,
    datetime.time,
    uuid.UUID,
    enum.Enum,
    list,
    dict,
)


class Definition:
    """What a token grant is computed from: a name, and who may subscribe to it."""

    name: str
    public: bool = False
    """Anonymous visitors may subscribe too (`flask telegraphy run` makes it a public topic)."""

    def is_authorized_user(self, user: Any) -> bool:
        """Whether `user` may subscribe: public definitions to anyone, else signed-in users."""
        return self.public or bool(getattr(user, "is_authenticated", False))


class BaseEventModel(Definition):
    """Model events: a class naming an SQLAlchemy model makes it emit create/update/delete."""

    model: ClassVar[type[Any] | None] = None
    fields: ClassVar[Iterable[str] | None] = None
    exclude: ClassVar[Iterable[str] | None] = None
    operations: ClassVar[Iterable[str] | None] = OPERATIONS
    verbose_name: ClassVar[str | None] = None
    name: str  # set in __init__: the class's own `name`, else default_name(model)

    def __init__(self) -> None:
        cls = type(self)
        if cls.model is None:
            raise ConfigurationError(f"{cls.__qualname__}.model is not set")
        self.mapper = _mapper(cls)
        self.name = validate_event_name(vars(cls).get("name") or default_name(cls.model))
        unknown = set(self.operations or ()) - set(OPERATIONS)
        if unknown:
            raise ConfigurationError(
                f"{cls.__qualname__}.operations: unknown {', '.join(sorted(unknown))}; "
                "use OP_CREATE, OP_UPDATE, OP_DELETE"
            )
        self.columns = self._columns()

    def _columns(self) -> list[str]:
        known = [attr.key for attr in self.mapper.column_attrs]
        if self.fields is not None:
            wanted = list(self.fields)
            missing = [name for name in wanted if name not in known]
            if missing:
                raise ConfigurationError(
                    f"{type(self).__qualname__}.fields: {self.mapper.class_.__name__} has no "
                    f"column {', '.join(missing)}; its columns: {', '.join(known)}"
                )
            return wanted
        excluded = set(self.exclude or ())
        return [name for name in known if name not in excluded]

    def to_dict(self, instance: Any) -> dict[str, Any]:
        """The event's data: the model's own `to_dict()` if it has one, else the columns."""
        own = getattr(instance, "to_dict", None)
        if callable(own):
            data: dict[str, Any] = own()
            return data
        return {name: _value(getattr(instance, name)) for name in self.columns}

    def event(self, instance: Any, operation: str) -> Event:
        """The event an operation on `instance` makes (data taken now, sent after commit)."""
        return Event(
            self.name,
            self.to_dict(instance),
            event_type=operation,
            verbose_name=self.verbose_name or default_verbose_name(type(instance)),
        )

    def emits(self, operation: str) -> bool:
        return operation in (self.operations or ())

    def register(self) -> BaseEventModel:
        """Start emitting; registering the same class again changes nothing."""
        from . import _session  # the session hooks are installed with the first model event

        registered = _register(self)
        assert isinstance(registered, BaseEventModel)
        _session.install()
        return registered

    def unregister(self) -> None:
        """Stop emitting (tests, or an app that turns an event off at run time)."""
        _unregister(self)


class BaseChannel(Definition):
    """A channel (or `prefix.*` pattern) browsers may read, and publish to if `publish`."""

    name: str
    publish: bool = False
    """Authorized users may publish to it from the browser, too."""

    def register(self) -> BaseChannel:
        validate_event_name(self.name.removesuffix(".*"))
        registered = _register(self)
        assert isinstance(registered, BaseChannel)
        return registered

    def unregister(self) -> None:
        _unregister(self)


_E = TypeVar("_E", bound=type[Event])


class _CustomDefinition(Definition):
    """A custom `Event` subclass as a grantable definition."""

    def __init__(self, event_class: type[Event]) -> None:
        self.event_class = event_class
        self.name = event_class.name
        self.public = bool(getattr(event_class, "public", False))

    def is_authorized_user(self, user: Any) -> bool:
        check = getattr(self.event_class, "is_authorized_user", None)
        return bool(check(user)) if callable(check) else super().is_authorized_user(user)


def register_event(event_class: _E) -> _E:
    """Register a custom event class so tokens grant it (usable as a class decorator).

    The class may set `public: ClassVar[bool] = True` and define a classmethod
    `is_authorized_user(cls, user)`.
    """
    _register(_CustomDefinition(event_class))
    return event_class


def default_name(model: type[Any]) -> str:
    """ "<package>.<Model>": the module's last part, without a final `.models` (like Django's
    app label), or the table's name for a model defined in `__main__`."""
    module = model.__module__.removesuffix(".models")
    if module == "__main__":
        module = str(getattr(model, "__tablename__", "main"))
    return f"{module.rpartition('.')[2]}.{model.__name__}"


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[0-9]+")


def default_verbose_name(model: type[Any]) -> str:
    """ "MyModel" -> "my model", as Django names a model without Meta.verbose_name."""
    words = _WORD.findall(model.__name__) or [model.__name__]
    return " ".join(word if word.isupper() and len(word) > 1 else word.lower() for word in words)


# The registry: definitions by name, and model events by model (registering twice is a no-op).
_events: dict[str, Definition] = {}
_channels: dict[str, Definition] = {}


def _key(definition: Definition) -> type:
    return definition.event_class if isinstance(definition, _CustomDefinition) else type(definition)


def _register(definition: Definition) -> Definition:
    table = _channels if isinstance(definition, BaseChannel) else _events
    existing = table.get(definition.name)
    if existing is not None:
        if _key(existing) is _key(definition):
            return existing
        raise ConfigurationError(
            f"two definitions are named {definition.name!r}: {_key(existing).__qualname__} and "
            f"{_key(definition).__qualname__}; give one of them another `name`"
        )
    table[definition.name] = definition
    return definition


def _unregister(definition: Definition) -> None:
    table = _channels if isinstance(definition, BaseChannel) else _events
    existing = table.get(definition.name)
    if existing is not None and _key(existing) is _key(definition):
        del table[definition.name]


def registered_events() -> list[Definition]:
    """Every registered event definition (model and custom), by name."""
    return [_events[name] for name in sorted(_events)]


def registered_channels() -> list[Definition]:
    """Every registered channel definition, by name."""
    return [_channels[name] for name in sorted(_channels)]


def model_events(instance: Any) -> list[BaseEventModel]:
    """The registered model events of `instance`'s class (or of a mapped base class)."""
    classes = type(instance).__mro__
    return [
        d for d in _events.values() if isinstance(d, BaseEventModel) and d.mapper.class_ in classes
    ]


def _mapper(cls: type[BaseEventModel]) -> Mapper[Any]:
    mapper = inspect(cls.model, raiseerr=False)
    if not isinstance(mapper, Mapper):
        raise ConfigurationError(
            f"{cls.__qualname__}.model must be an SQLAlchemy mapped class (a declarative model "
            f"or a Flask-SQLAlchemy db.Model), got {cls.model!r}"
        )
    return mapper


def _value(value: Any) -> Any:
    return value if isinstance(value, _PLAIN) else str(value)
