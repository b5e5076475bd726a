"""What an authenticated session may do: permissions decided once, at authentication."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Protocol

from telegraphy.core import (
    PRESENCE_TOPIC_PREFIX,
    EventError,
    Grants,
    channel_topic,
    event_topic,
    grant_pattern,
)
from telegraphy.core import user_channel as user_channel_of

from .errors import NotAuthorized
from .router.uri import Pattern

Action = Literal["publish", "subscribe", "call", "register"]


class Permissions(Protocol):
    def allows(self, action: Action, target: Pattern) -> bool: ...

    def narrowing(self, target: Pattern) -> dict[str, Any] | None:
        """The filter (canonical) this session's grants put on subscribing to `target`."""
        ...


class AllowAll:
    """Backends (WAMP-CRA): publish, subscribe, call and register anything."""

    def allows(self, action: Action, target: Pattern) -> bool:
        return True

    def narrowing(self, target: Pattern) -> dict[str, Any] | None:
        return None


class TokenPermissions:
    """Browser sessions, with a token or anonymous (no grants, no user).

    Subscribe: the public patterns, the granted events (exact topics), the granted channels
    (exact, or prefix for `x.*`) and the user's own channel. Publish: the granted channels.
    Nothing else. A pattern subscription needs a granted pattern that covers all it can match.
    An event the grants carry a filter for is seen through it, and only by name: a pattern
    subscription that could reach it is refused (the filter would not be its topic's only).
    """

    def __init__(
        self,
        user: str | None,
        grants: Grants,
        public: Iterable[Pattern],
        topic_prefix: str,
        channel_prefix: str,
    ) -> None:
        events = [Pattern(event_topic(name, topic_prefix)) for name in grants.subscribe_events]
        own = _own_channel(user, channel_prefix)
        self._subscribe = (
            *public,
            *events,
            *_channels(grants.subscribe_channels, channel_prefix),
            *own,
        )
        self._publish = tuple(_channels(grants.publish_channels, channel_prefix))
        self._filters = {event_topic(n, topic_prefix): f for n, f in grants.filters.items()}
        self._channel_prefix = channel_prefix

    def allows(self, action: Action, target: Pattern) -> bool:
        if action == "subscribe":
            target = _about(target, self._channel_prefix)
            return any(p.covers(target) for p in self._subscribe)
        if action == "publish":
            return any(p.covers(target) for p in self._publish)
        return False

    def narrowing(self, target: Pattern) -> dict[str, Any] | None:
        if target.match == "exact":
            return self._filters.get(target.uri)
        for topic in self._filters:
            if target.matches(topic):
                raise NotAuthorized(
                    f"{target.uri!r} ({target.match}) reaches {topic!r}, which this session "
                    "sees through a filter: subscribe to it by name"
                )
        return None


def _about(target: Pattern, channel_prefix: str) -> Pattern:
    """A presence topic (pattern) is watched with the rights to the channels it is about."""
    presence = f"{PRESENCE_TOPIC_PREFIX}."
    if not target.uri.startswith(presence):
        return target
    return Pattern(f"{channel_prefix}.{target.uri[len(presence) :]}", target.match)


def _channels(specs: Iterable[str], prefix: str) -> list[Pattern]:
    return [Pattern(*grant_pattern(spec, prefix)) for spec in specs]


def _own_channel(user: str | None, prefix: str) -> list[Pattern]:
    if user is None:
        return []
    try:
        return [Pattern(channel_topic(user_channel_of(user), prefix))]
    except EventError:  # a user id that cannot be part of a topic has no channel
        return []
