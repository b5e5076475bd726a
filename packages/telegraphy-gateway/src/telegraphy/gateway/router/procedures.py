"""Telegraphy's own router procedures: `telegraphy.subscriptions` (any session: its own
subscriptions), `telegraphy.subscriptors` (backends: who is subscribed to an event) and
`telegraphy.history` (any session: a topic's last publications, if it may subscribe to it,
through its token's filter and the `filter` it gives) and `telegraphy.presence` (any session:
a channel's members, if it may subscribe to the channel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred

from telegraphy.core import EventError, event_topic

from ..auth import ANONYMOUS_ROLE, USER_ROLE
from ..engines.base import Entry, Position
from ..errors import InvalidArgument, NotAuthorized
from .clients import subscription_details
from .delivery import in_audience
from .filters import Filter, asked, document
from .meta import Procedure, checked
from .presence import PRESENCE
from .uri import Pattern, validate_pattern

if TYPE_CHECKING:
    from ..session import Session
    from .realm import Realm

SUBSCRIPTIONS = "telegraphy.subscriptions"
SUBSCRIPTORS = "telegraphy.subscriptors"
HISTORY = "telegraphy.history"
DEFAULT_HISTORY_LIMIT = 100


class RouterProcedures:
    def __init__(self, realm: Realm) -> None:
        self._realm = realm

    def procedure(self, uri: str, caller: Session) -> Procedure | None:
        """The procedure at `uri` as `caller` calls it, or None if the router has none there."""
        if uri == SUBSCRIPTIONS:
            return checked(uri, lambda: self.subscriptions(caller))
        if uri == SUBSCRIPTORS:
            return checked(uri, lambda event_name: self.subscriptors(caller, event_name))
        if uri == HISTORY:
            return checked(
                uri,
                lambda topic, limit=DEFAULT_HISTORY_LIMIT, filter=None: self.history(
                    caller, topic, limit, filter
                ),
            )
        if uri == PRESENCE:
            return checked(uri, lambda channel: self._realm.presence.members(caller, channel))
        return None

    def subscriptions(self, caller: Session) -> list[dict[str, Any]]:
        return [subscription_details(s, None, p) for s, p in self._realm.broker.asked_by(caller)]

    def subscriptors(self, caller: Session, event_name: Any) -> list[dict[str, Any]]:
        if caller.authrole in (USER_ROLE, ANONYMOUS_ROLE):
            raise NotAuthorized(f"{SUBSCRIPTORS} is for backends only")
        try:
            topic = event_topic(event_name, self._realm.config.topic_prefix)
        except EventError as e:
            raise InvalidArgument(f"{SUBSCRIPTORS}: {e}") from None
        sessions = {s.id: s for sub in self._realm.broker.matching(topic) for s in sub.sessions()}
        return [
            {"session": s.id, "authid": s.authid, "authrole": s.authrole}
            for s in sorted(sessions.values(), key=lambda s: s.id)
        ]

    def history(
        self, caller: Session, topic: Any, limit: Any, filter: Any = None
    ) -> Deferred[dict[str, Any]]:
        """The last `limit` publications on `topic`, oldest first, less those `caller` may not
        see or its filters (its token's, and `filter`) do not let through."""
        if not isinstance(topic, str) or not validate_pattern(topic, "exact"):
            raise InvalidArgument(f"{HISTORY}: topic must be a topic URI")
        most = self._realm.config.history.max_recover
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
            raise InvalidArgument(f"{HISTORY}: limit must be an integer from 1 to {most}")
        assert caller.permissions is not None
        if not caller.permissions.allows("subscribe", Pattern(topic)):
            raise NotAuthorized(f"not authorized to read the history of {topic!r}")
        seen = self._realm.broker.filter_for(caller, asked(Pattern(topic), filter))
        streams = self._realm.engine.streams
        found = streams.history(topic, limit)
        # The top once the entries are read: never behind the last of them.
        return found.addCallback(
            lambda entries: _history(topic, streams.top(topic), caller, seen, entries)
        )


def _history(
    topic: str,
    top: Position | None,
    caller: Session,
    seen: Filter | None,
    entries: list[Entry],
) -> dict[str, Any]:
    position = top or Position(0, "")
    return {
        "topic": topic,
        "offset": position.offset,
        "epoch": position.epoch,
        "events": [
            {
                "offset": e.offset,
                "publication": e.publication,
                "args": e.draft.args or [],
                "kwargs": e.draft.kwargs or {},
            }
            for e in entries
            if in_audience(caller, e) and (seen is None or seen.test(document(e.draft)))
        ],
    }
