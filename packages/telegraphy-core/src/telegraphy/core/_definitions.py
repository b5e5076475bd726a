"""Definitions and their registry: what the web adapters grant tokens from.

An adapter keeps one `Registry` of the events (model and custom) and channels its app
registered; token grants and the gateway's public topics are computed from it here, so that
Django and Flask grant the same things for the same definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._errors import ConfigurationError
from ._event import Event
from ._filters import F
from ._names import event_topic, validate_event_name
from ._tokens import Grants, grant_pattern, grants_for, user_channel

if TYPE_CHECKING:
    from ._settings import Settings

OP_CREATE = "create"
OP_UPDATE = "update"
OP_DELETE = "delete"
OPERATIONS = (OP_CREATE, OP_UPDATE, OP_DELETE)
"""What a model event's `event_type` says happened to the instance."""

_D = TypeVar("_D", bound="Definition")
_E = TypeVar("_E", bound=type[Event])


class Definition:
    """What a token grant is computed from: a name, and who may subscribe to it."""

    name: str
    public: bool = False
    """Anonymous visitors may subscribe too (the embedded gateway makes it a public topic)."""

    def is_authorized_user(self, user: Any) -> bool:
        """Whether `user` may subscribe: public definitions to anyone, else signed-in users."""
        return self.public or bool(getattr(user, "is_authenticated", False))

    def filter_for_user(self, user: Any) -> F | Mapping[str, Any] | None:
        """The events of this definition `user` may see, as a filter the token carries and the
        gateway enforces (`F(customer__id=user.pk)`); None: all of them."""
        return None

    def fragment_filter(self, user: Any) -> F | None:
        """Which rendering of the event's fragment `user` receives, as a filter ANDed with
        `filter_for_user` (docs/fragments.rst); None: there is one rendering."""
        return None


def operations_problem(owner: str, operations: Iterable[str] | None) -> str | None:
    """What is wrong with a model event's `operations` (None: nothing), for the adapter to raise."""
    unknown = set(operations or ()) - set(OPERATIONS)
    if not unknown:
        return None
    return (
        f"{owner}.operations: unknown {', '.join(sorted(unknown))}; "
        "use OP_CREATE, OP_UPDATE, OP_DELETE"
    )


class ChannelDefinition(Definition):
    """A channel (or `prefix.*` pattern) browsers may read, and publish to if `publish`."""

    name: str
    publish: bool = False
    """Authorized users may publish to it from the browser, too."""


class CustomDefinition(Definition):
    """A custom `Event` subclass as a grantable definition.

    The class may set `public: ClassVar[bool] = True` and define the classmethods
    `is_authorized_user(cls, user)` and `filter_for_user(cls, user)`.
    """

    def __init__(self, event_class: type[Event]) -> None:
        self.event_class = event_class
        self.name = event_class.name
        self.public = bool(getattr(event_class, "public", False))

    def is_authorized_user(self, user: Any) -> bool:
        check = getattr(self.event_class, "is_authorized_user", None)
        return bool(check(user)) if callable(check) else super().is_authorized_user(user)

    def filter_for_user(self, user: Any) -> F | Mapping[str, Any] | None:
        own = getattr(self.event_class, "filter_for_user", None)
        return own(user) if callable(own) else None


def _class_of(definition: Definition) -> type:
    """The class a definition stands for: registering one class twice is a no-op."""
    if isinstance(definition, CustomDefinition):
        return definition.event_class
    return type(definition)


class Registry:
    """One adapter's definitions by name: events (model and custom), and channels.

    `error` is the exception a name clash raises (Django's adapter says ImproperlyConfigured).
    """

    def __init__(self, error: type[Exception] = ConfigurationError) -> None:
        self.events: dict[str, Definition] = {}
        self.channels: dict[str, Definition] = {}
        self._error = error

    def register(self, definition: _D) -> _D:
        """Add `definition`; the one already there if its class was registered before."""
        if isinstance(definition, ChannelDefinition):
            validate_event_name(definition.name.removesuffix(".*"))
        table = self._table(definition)
        existing = table.get(definition.name)
        if existing is None:
            table[definition.name] = definition
            return definition
        if _class_of(existing) is not _class_of(definition):
            raise self._error(
                f"two definitions are named {definition.name!r}: "
                f"{_class_of(existing).__qualname__} and "
                f"{_class_of(definition).__qualname__}; give one of them another `name`"
            )
        return cast("_D", existing)  # same class, so the same type as `definition`

    def unregister(self, definition: Definition) -> None:
        """Remove the definition of `definition`'s class, if it is registered."""
        table = self._table(definition)
        existing = table.get(definition.name)
        if existing is not None and _class_of(existing) is _class_of(definition):
            del table[definition.name]

    def register_event(self, event_class: _E) -> _E:
        """Register a custom event class so tokens grant it (usable as a class decorator).

        The class may set `public: ClassVar[bool] = True` and define a classmethod
        `is_authorized_user(cls, user)`.
        """
        self.register(CustomDefinition(event_class))
        return event_class

    def registered_events(self) -> list[Definition]:
        """Every registered event definition (model and custom), by name."""
        return [self.events[name] for name in sorted(self.events)]

    def registered_channels(self) -> list[Definition]:
        """Every registered channel definition, by name."""
        return [self.channels[name] for name in sorted(self.channels)]

    def event_classes(self) -> set[type]:
        """The classes of the registered event definitions."""
        return {_class_of(d) for d in self.events.values()}

    def grants(self, user: Any, subject: str | None) -> Grants:
        """What `user` (whose id is `subject`, None if anonymous) may see and publish to.

        The events and channels they are authorized for, plus their own channel.
        """
        channels = [c for c in self.registered_channels() if c.is_authorized_user(user)]
        subscribe = [c.name for c in channels]
        if subject is not None:
            subscribe.append(user_channel(subject))
        publish = [c.name for c in channels if getattr(c, "publish", False)]
        return grants_for(user, self.registered_events(), subscribe, publish)

    def public_patterns(self, settings: Settings) -> list[dict[str, str]]:
        """Topics anonymous sessions may subscribe to: the events and channels marked public."""
        patterns = [
            {"uri": event_topic(d.name, settings.topic_prefix), "match": "exact"}
            for d in self.registered_events()
            if d.public
        ]
        for channel in self.registered_channels():
            if channel.public:
                uri, match = grant_pattern(channel.name, settings.channel_prefix)
                patterns.append({"uri": uri, "match": match})
        return patterns

    def _table(self, definition: Definition) -> dict[str, Definition]:
        return self.channels if isinstance(definition, ChannelDefinition) else self.events
