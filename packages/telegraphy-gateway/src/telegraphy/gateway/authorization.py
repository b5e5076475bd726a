"""What an authenticated session may do: permissions decided once, at authentication."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

from telegraphy.core import EventError, Grants, channel_topic, event_topic, grant_pattern
from telegraphy.core import user_channel as user_channel_of

from .router.uri import Pattern

Action = Literal["publish", "subscribe", "call", "register"]


class Permissions(Protocol):
    def allows(self, action: Action, target: Pattern) -> bool: ...


class AllowAll:
    """Backends (WAMP-CRA): publish, subscribe, call and register anything."""

    def allows(self, action: Action, target: Pattern) -> bool:
        return True


class TokenPermissions:
    """Browser sessions, with a token or anonymous (no grants, no user).

    Subscribe: the public patterns, the granted events (exact topics), the granted channels
    (exact, or prefix for `x.*`) and the user's own channel. Publish: the granted channels.
    Nothing else. A pattern subscription needs a granted pattern that covers all it can match.
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

    def allows(self, action: Action, target: Pattern) -> bool:
        if action == "subscribe":
            return any(p.covers(target) for p in self._subscribe)
        if action == "publish":
            return any(p.covers(target) for p in self._publish)
        return False


def _channels(specs: Iterable[str], prefix: str) -> list[Pattern]:
    return [Pattern(*grant_pattern(spec, prefix)) for spec in specs]


def _own_channel(user: str | None, prefix: str) -> list[Pattern]:
    if user is None:
        return []
    try:
        return [Pattern(channel_topic(user_channel_of(user), prefix))]
    except EventError:  # a user id that cannot be part of a topic has no channel
        return []
