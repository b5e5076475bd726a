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
from typing import Any, ClassVar, Self

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.template.loader import render_to_string
from django.utils.module_loading import autodiscover_modules

from telegraphy.core import (
    AUDIENCE_PUBLIC,
    DEFAULT_BATCH_SIZE,
    ChannelDefinition,
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
    to_channel,
    user_channel,
    validate_event_name,
)
from telegraphy.core import OP_CREATE as OP_CREATE
from telegraphy.core import OP_DELETE as OP_DELETE
from telegraphy.core import OP_UPDATE as OP_UPDATE
from telegraphy.core import OPERATIONS as OPERATIONS
from telegraphy.core import Definition as Definition

from .conf import capturing, get_sender, get_settings

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


# This app's definitions (registering a class twice is a no-op).
registry = Registry(error=ImproperlyConfigured)
_events = registry.events
_channels = registry.channels
register_event = registry.register_event
registered_events = registry.registered_events
registered_channels = registry.registered_channels


class BaseEventModel(Definition):
    """Model events: the original Telegraphy API's class-based way to make a model emit
    create/update/delete."""

    model: ClassVar[type[models.Model] | None] = None
    fields: ClassVar[Iterable[str] | None] = None
    exclude: ClassVar[Iterable[str] | None] = None
    operations: ClassVar[Iterable[str] | None] = OPERATIONS
    verbose_name: ClassVar[str | None] = None
    serializer_class: ClassVar[DataBuilder | None] = None
    """Builds the data instead of `fields`/`exclude`: a DRF serializer, a Pydantic model, a
    callable (docs/bulk.rst)."""
    bulk: ClassVar[str | None] = None
    """BULK_ROWS or BULK_BATCH: bulk operations through `EventQuerySet` send events."""
    batch_size: ClassVar[int] = DEFAULT_BATCH_SIZE
    fragment_template: ClassVar[str | None] = None
    """A template rendered once per audience when the instance changes, sent with the event
    for the browser to put in place (docs/fragments.rst)."""
    fragment_audiences: ClassVar[tuple[str, ...]] = (AUDIENCE_PUBLIC,)
    name: str  # set in __init__: the class's own `name`, else "app_label.ModelName"

    def __init__(self) -> None:
        model = type(self).model
        if model is None:
            raise ImproperlyConfigured(f"{type(self).__qualname__}.model is not set")
        self.name = validate_event_name(
            vars(type(self)).get("name") or f"{model._meta.app_label}.{model.__name__}"
        )
        cls = type(self)
        problem = (
            operations_problem(cls.__qualname__, self.operations)
            or serializer_problem(cls.__qualname__, cls.serializer_class, cls.fields, cls.exclude)
            or bulk_problem(cls.__qualname__, self, cls.bulk, cls.batch_size)
            or fragment_problem(cls.__qualname__, cls.fragment_audiences, self.public)
        )
        if problem:
            raise ImproperlyConfigured(problem)

    def to_dict(self, instance: models.Model) -> dict[str, Any]:
        """The event's data: the `serializer_class`'s if set, else the model's own `to_dict()`
        if it has one, else the fields."""
        serializer = type(self).serializer_class  # from the class: a function stays unbound
        if serializer is not None:
            return serialized(serializer, instance)
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

    def envelopes(self, instance: models.Model, event: Event) -> list[Envelope]:
        """What `event` travels as: itself, or one envelope per audience with its fragment."""
        if self.fragment_template is None:
            return [event.envelope()]
        return fragment_envelopes(
            event.envelope(),
            self.fragment_object_id(instance),
            self.fragment_audiences,
            partial(self.render_fragment, instance),
        )

    def render_fragment(self, instance: models.Model, audience: str) -> str:
        """`fragment_template` for `audience`, with the template engine's autoescaping."""
        assert self.fragment_template is not None
        return render_to_string(self.fragment_template, self.fragment_context(instance, audience))

    def fragment_context(self, instance: models.Model, audience: str) -> dict[str, Any]:
        """The template's context: `object` (and the model's name) and `audience`."""
        return {"object": instance, str(instance._meta.model_name): instance, "audience": audience}

    def fragment_object_id(self, instance: models.Model) -> str:
        """Which object a fragment shows (`{% telegraphy_object %}` writes the same)."""
        return str(instance.pk)

    def fragment_filter(self, user: Any) -> F | None:
        if self.fragment_template is None:
            return None
        return audience_filter(self.fragment_audiences, user)

    def register(self) -> BaseEventModel:
        """Start emitting; registering the same class again changes nothing."""
        registered = registry.register(self)
        if registered is self:
            uid = f"telegraphy:{self.name}"
            post_save.connect(self._saved, sender=self.model, weak=False, dispatch_uid=uid)
            post_delete.connect(self._deleted, sender=self.model, weak=False, dispatch_uid=uid)
        return registered

    def unregister(self) -> None:
        """Stop emitting (tests, or an app that turns an event off at run time)."""
        uid = f"telegraphy:{self.name}"
        post_save.disconnect(sender=self.model, dispatch_uid=uid)
        post_delete.disconnect(sender=self.model, dispatch_uid=uid)
        registry.unregister(self)

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
        from . import bulk  # a QuerySet.delete() of batch events collects the rows

        event = self.event(instance, operation)
        if not bulk.collected(self, event):
            for envelope in self.envelopes(instance, event):
                send_after_commit(envelope, using)


class BaseChannel(ChannelDefinition):
    """A channel (or `prefix.*` pattern) browsers may read, and publish to if `publish`."""

    def register(self) -> Self:
        return registry.register(self)

    def unregister(self) -> None:
        registry.unregister(self)


def autodiscover() -> None:
    """Import every installed app's `events` module and register its `BaseEventModel`s.

    The app already does this when Django starts; calling it again (as the original
    Telegraphy API shows, from urls.py) registers nothing twice.
    """
    autodiscover_modules("events")
    modules = {f"{app.name}.events" for app in apps.get_app_configs()}
    registered = registry.event_classes()
    for cls in _subclasses(BaseEventModel):
        if cls.model is not None and cls.__module__ in modules and cls not in registered:
            cls().register()


def _subclasses(cls: type[BaseEventModel]) -> Iterable[type[BaseEventModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def send_after_commit(envelope: Envelope, using: str | None = None) -> None:
    """Hand `envelope` to the publisher once the current transaction commits (now if none).

    With OUTBOX on, the event is written to the outbox in that transaction instead (unless
    `capture_events()` is recording).
    """
    if get_settings().outbox.enabled and not capturing():
        from . import outbox

        outbox.write(envelope, using)
        return
    transaction.on_commit(partial(_send, envelope), using=using, robust=True)


def _send(envelope: Envelope) -> None:
    get_sender().send(envelope)


def send_event(event: Event, using: str | None = None) -> None:
    """Send a custom event to everyone allowed to see its name, after the transaction commits."""
    send_after_commit(event.envelope(), using)


def send_to_channel(channel: str, event: Event, using: str | None = None) -> None:
    """Send `event` to the subscribers of `channel` only (`chat.room-1`, `user.42`)."""
    send_after_commit(to_channel(event.envelope(), channel), using)


def send_to_user(user: Any, event: Event, using: str | None = None) -> None:
    """Send `event` to one user's browsers only: their channel `user.<pk>`."""
    send_to_channel(user_channel(str(user.pk)), event, using)


def _value(field: models.Field[Any, Any], instance: models.Model) -> Any:
    value = field.value_from_object(instance)
    return value if isinstance(value, _PLAIN) else field.value_to_string(instance)
