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
from functools import partial
from typing import Any, ClassVar, Self

from flask import render_template
from sqlalchemy import inspect
from sqlalchemy.orm import Mapper

from telegraphy.core import (
    AUDIENCE_PUBLIC,
    DEFAULT_BATCH_SIZE,
    ChannelDefinition,
    ConfigurationError,
    DataBuilder,
    Envelope,
    Event,
    F,
    Registry,
    audience_filter,
    bulk_problem,
    fragment_envelopes,
    fragment_problem,
    operations_problem,
    serialized,
    serializer_problem,
    validate_event_name,
)
from telegraphy.core import OP_CREATE as OP_CREATE
from telegraphy.core import OP_DELETE as OP_DELETE
from telegraphy.core import OP_UPDATE as OP_UPDATE
from telegraphy.core import OPERATIONS as OPERATIONS
from telegraphy.core import Definition as Definition

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


# This app's definitions (registering a class twice is a no-op).
registry = Registry()
_events = registry.events
_channels = registry.channels
register_event = registry.register_event
registered_events = registry.registered_events
registered_channels = registry.registered_channels


class BaseEventModel(Definition):
    """Model events: a class naming an SQLAlchemy model makes it emit create/update/delete."""

    model: ClassVar[type[Any] | None] = None
    fields: ClassVar[Iterable[str] | None] = None
    exclude: ClassVar[Iterable[str] | None] = None
    operations: ClassVar[Iterable[str] | None] = OPERATIONS
    verbose_name: ClassVar[str | None] = None
    serializer_class: ClassVar[DataBuilder | None] = None
    """Builds the data instead of `fields`/`exclude`: a Pydantic model or a callable
    (docs/bulk.rst)."""
    bulk: ClassVar[str | None] = None
    """BULK_ROWS or BULK_BATCH: ORM UPDATE, DELETE and INSERT statements send events."""
    batch_size: ClassVar[int] = DEFAULT_BATCH_SIZE
    fragment_template: ClassVar[str | None] = None
    """A Jinja template rendered once per audience when an instance changes, sent with the
    event for the browser to put in place (docs/fragments.rst)."""
    fragment_audiences: ClassVar[tuple[str, ...]] = (AUDIENCE_PUBLIC,)
    name: str  # set in __init__: the class's own `name`, else default_name(model)

    def __init__(self) -> None:
        cls = type(self)
        if cls.model is None:
            raise ConfigurationError(f"{cls.__qualname__}.model is not set")
        self.mapper = _mapper(cls)
        self.name = validate_event_name(vars(cls).get("name") or default_name(cls.model))
        problem = (
            operations_problem(cls.__qualname__, self.operations)
            or serializer_problem(cls.__qualname__, cls.serializer_class, cls.fields, cls.exclude)
            or bulk_problem(cls.__qualname__, self, cls.bulk, cls.batch_size)
            or fragment_problem(cls.__qualname__, cls.fragment_audiences, self.public)
        )
        if problem:
            raise ConfigurationError(problem)
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
        """The event's data: the `serializer_class`'s if set, else the model's own `to_dict()`
        if it has one, else the columns."""
        serializer = type(self).serializer_class  # from the class: a function stays unbound
        if serializer is not None:
            return serialized(serializer, instance)
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

    def envelopes(self, instance: Any, event: Event) -> list[Envelope]:
        """What `event` travels as: itself, or one envelope per audience with its fragment."""
        if self.fragment_template is None:
            return [event.envelope()]
        return fragment_envelopes(
            event.envelope(),
            self.fragment_object_id(instance),
            self.fragment_audiences,
            partial(self.render_fragment, instance),
        )

    def render_fragment(self, instance: Any, audience: str) -> str:
        """`fragment_template` for `audience`, with the app's Jinja autoescaping."""
        assert self.fragment_template is not None
        return render_template(self.fragment_template, **self.fragment_context(instance, audience))

    def fragment_context(self, instance: Any, audience: str) -> dict[str, Any]:
        """The template's context: `object` (and the model's name in snake case) and
        `audience`."""
        own = "_".join(default_verbose_name(type(instance)).split())
        return {"object": instance, own: instance, "audience": audience}

    def fragment_object_id(self, instance: Any) -> str:
        """Which object a fragment shows (`telegraphy_object()` writes the same)."""
        return object_id(instance)

    def fragment_filter(self, user: Any) -> F | None:
        if self.fragment_template is None:
            return None
        return audience_filter(self.fragment_audiences, user)

    def emits(self, operation: str) -> bool:
        return operation in (self.operations or ())

    def register(self) -> BaseEventModel:
        """Start emitting; registering the same class again changes nothing."""
        from . import _session  # the session hooks are installed with the first model event

        registered = registry.register(self)
        _session.install()
        return registered

    def unregister(self) -> None:
        """Stop emitting (tests, or an app that turns an event off at run time)."""
        registry.unregister(self)


class BaseChannel(ChannelDefinition):
    """A channel (or `prefix.*` pattern) browsers may read, and publish to if `publish`."""

    def register(self) -> Self:
        return registry.register(self)

    def unregister(self) -> None:
        registry.unregister(self)


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


def object_id(instance: Any) -> str:
    """A mapped instance's primary key as text (joined by "-" when composite); any other
    value as text."""
    state = inspect(instance, raiseerr=False)
    if state is None or not hasattr(state, "mapper"):
        return str(instance)
    # Read from the instance: a row just inserted has its key before its identity is set.
    return "-".join(str(part) for part in state.mapper.primary_key_from_instance(instance))


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
