"""Class-based event definitions: model events (`BaseEventModel`), channels, custom events.

    class MyEventsModel(BaseEventModel):
        model = MyModel

    MyEventsModel().register()

A registered model event fires on create, update and delete, once the transaction commits.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any, ClassVar, TypeVar

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils.module_loading import autodiscover_modules

from telegraphy.core import Envelope, Event, user_channel, validate_event_name

from .conf import get_sender, get_settings

OP_CREATE = "create"
OP_UPDATE = "update"
OP_DELETE = "delete"
OPERATIONS = (OP_CREATE, OP_UPDATE, OP_DELETE)

# Values JSON (through to_json_safe) carries as they are; any other field value goes as the
# string Django's serializers would write.
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
    list,
    dict,
)


class Definition:
    """What a token grant is computed from: a name, and who may subscribe to it."""

    name: str
    public: bool = False
    """Anonymous visitors may subscribe too (run_telegraph makes it a public topic)."""

    def is_authorized_user(self, user: Any) -> bool:
        """Whether `user` may subscribe: public definitions to anyone, else signed-in users."""
        return self.public or bool(getattr(user, "is_authenticated", False))


class BaseEventModel(Definition):
    """Model events: the seeds' class-based way to make a model emit create/update/delete."""

    model: ClassVar[type[models.Model] | None] = None
    fields: ClassVar[Iterable[str] | None] = None
    exclude: ClassVar[Iterable[str] | None] = None
    operations: ClassVar[Iterable[str] | None] = OPERATIONS
    verbose_name: ClassVar[str | None] = None
    name: str  # set in __init__: the class's own `name`, else "app_label.ModelName"

    def __init__(self) -> None:
        model = type(self).model
        if model is None:
            raise ImproperlyConfigured(f"{type(self).__qualname__}.model is not set")
        self.name = validate_event_name(
            vars(type(self)).get("name") or f"{model._meta.app_label}.{model.__name__}"
        )
        unknown = set(self.operations or ()) - set(OPERATIONS)
        if unknown:
            raise ImproperlyConfigured(
                f"{type(self).__qualname__}.operations: unknown {', '.join(sorted(unknown))}; "
                "use OP_CREATE, OP_UPDATE, OP_DELETE"
            )

    def to_dict(self, instance: models.Model) -> dict[str, Any]:
        """The event's data: the model's own `to_dict()` if it has one, else the fields."""
        own = getattr(instance, "to_dict", None)
        if callable(own):
            data: dict[str, Any] = own()
            return data
        selected = self._selected_fields(instance)
        return {f.attname if f.is_relation else f.name: _value(f, instance) for f in selected}

    def _selected_fields(self, instance: models.Model) -> list[models.Field[Any, Any]]:
        concrete = list(instance._meta.concrete_fields)
        if self.fields is not None:
            wanted = list(self.fields)
            by_name = {f.name: f for f in concrete} | {f.attname: f for f in concrete}
            missing = [n for n in wanted if n not in by_name]
            if missing:
                raise ImproperlyConfigured(
                    f"{type(self).__qualname__}.fields: {instance._meta.label} has no field "
                    + ", ".join(missing)
                )
            return [by_name[n] for n in wanted]
        excluded = set(self.exclude or ())
        return [f for f in concrete if f.name not in excluded and f.attname not in excluded]

    def event(self, instance: models.Model, operation: str) -> Event:
        """The event an operation on `instance` makes (data taken now, sent after commit)."""
        return Event(
            self.name,
            self.to_dict(instance),
            event_type=operation,
            verbose_name=self.verbose_name or str(instance._meta.verbose_name),
        )

    def register(self) -> BaseEventModel:
        """Start emitting; registering the same class again changes nothing."""
        registered = _register(self)
        if registered is self:
            uid = f"telegraphy:{self.name}"
            post_save.connect(self._saved, sender=self.model, weak=False, dispatch_uid=uid)
            post_delete.connect(self._deleted, sender=self.model, weak=False, dispatch_uid=uid)
        assert isinstance(registered, BaseEventModel)
        return registered

    def unregister(self) -> None:
        """Stop emitting (tests, or an app that turns an event off at run time)."""
        uid = f"telegraphy:{self.name}"
        post_save.disconnect(sender=self.model, dispatch_uid=uid)
        post_delete.disconnect(sender=self.model, dispatch_uid=uid)
        _unregister(self)

    def _saved(
        self, instance: models.Model, created: bool, using: str, raw: bool = False, **_: Any
    ) -> None:
        if not raw:  # loaddata writes fixtures as they are: not something that happened
            self._emit(instance, OP_CREATE if created else OP_UPDATE, using)

    def _deleted(self, instance: models.Model, using: str, **_: Any) -> None:
        self._emit(instance, OP_DELETE, using)

    def _emit(self, instance: models.Model, operation: str, using: str) -> None:
        if operation not in (self.operations or ()) or not get_settings().enabled:
            return
        send_after_commit(self.event(instance, operation).envelope(), using)


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


# The registry: definitions by name, and their classes (registering a class twice is a no-op).
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
        raise ImproperlyConfigured(
            f"two definitions are named {definition.name!r}: {_key(existing).__qualname__} and "
            f"{_key(definition).__qualname__}; give one of them another `name`"
        )
    table[definition.name] = definition
    return definition


def _unregister(definition: Definition) -> None:
    table = _channels if isinstance(definition, BaseChannel) else _events
    if table.get(definition.name) is definition or (
        definition.name in table and _key(table[definition.name]) is _key(definition)
    ):
        del table[definition.name]


def registered_events() -> list[Definition]:
    """Every registered event definition (model and custom), by name."""
    return [_events[name] for name in sorted(_events)]


def registered_channels() -> list[Definition]:
    """Every registered channel definition, by name."""
    return [_channels[name] for name in sorted(_channels)]


def autodiscover() -> None:
    """Import every installed app's `events` module and register its `BaseEventModel`s.

    The app already does this when Django starts; calling it again (as the seeds show, from
    urls.py) registers nothing twice.
    """
    autodiscover_modules("events")
    modules = {f"{app.name}.events" for app in apps.get_app_configs()}
    registered = {_key(d) for d in _events.values()}
    for cls in _subclasses(BaseEventModel):
        if cls.model is not None and cls.__module__ in modules and cls not in registered:
            cls().register()


def _subclasses(cls: type[BaseEventModel]) -> Iterable[type[BaseEventModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def send_after_commit(envelope: Envelope, using: str | None = None) -> None:
    """Hand `envelope` to the publisher once the current transaction commits (now if none)."""
    transaction.on_commit(partial(_send, envelope), using=using, robust=True)


def _send(envelope: Envelope) -> None:
    get_sender().send(envelope)


def send_event(event: Event, using: str | None = None) -> None:
    """Send a custom event to everyone allowed to see its name, after the transaction commits."""
    send_after_commit(event.envelope(), using)


def send_to_channel(channel: str, event: Event, using: str | None = None) -> None:
    """Send `event` to the subscribers of `channel` only (`chat.room-1`, `user.42`)."""
    envelope = event.envelope()
    meta = {**envelope["meta"], "channel": validate_event_name(channel)}
    send_after_commit({"name": envelope["name"], "meta": meta, "data": envelope["data"]}, using)


def send_to_user(user: Any, event: Event, using: str | None = None) -> None:
    """Send `event` to one user's browsers only: their channel `user.<pk>`."""
    send_to_channel(user_channel(str(user.pk)), event, using)


def _value(field: models.Field[Any, Any], instance: models.Model) -> Any:
    value = field.value_from_object(instance)
    return value if isinstance(value, _PLAIN) else field.value_to_string(instance)
