"""A subscription: a topic pattern and filter, and its sessions grouped by codec, each with
the bound `send_frame` the fan-out writes to (one frame per codec per event)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..engines.base import Entry
from ..wire import Codec
from .filters import Filter, document
from .uri import Pattern

if TYPE_CHECKING:
    from ..session import Session

Sender = Callable[[bytes], None]


class Subscription:
    __slots__ = ("created", "deliveries", "filter", "id", "members", "pattern", "publications")

    def __init__(self, subscription_id: int, pattern: Pattern, filter: Filter | None) -> None:
        self.id = subscription_id
        self.pattern = pattern
        self.filter = filter
        self.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # codec -> {session: its transport's send_frame}: one frame per codec per event.
        self.members: dict[Codec, dict[Session, Sender]] = {}
        self.publications = 0  # delivered through it (for /stats)
        self.deliveries = 0  # EVENTs of those written

    def add(self, session: Session) -> None:
        self.members.setdefault(session.codec, {})[session] = session.transport.send_frame

    def remove(self, session: Session) -> None:
        group = self.members.get(session.codec, {})
        group.pop(session, None)
        if not group:
            self.members.pop(session.codec, None)

    def has(self, session: Session) -> bool:
        return session in self.members.get(session.codec, ())

    def hold(self, session: Session, sender: Sender) -> None:
        """Write `session`'s frames to `sender` instead (while its recovery is read)."""
        group = self.members.get(session.codec, {})
        if session in group:
            group[session] = sender

    def release(self, session: Session) -> None:
        group = self.members.get(session.codec, {})
        if session in group:
            group[session] = session.transport.send_frame

    def sessions(self) -> list[Session]:
        return [s for group in self.members.values() for s in group]

    def admits(self, entry: Entry) -> bool:
        """Whether this subscription's filter lets `entry` through (replays ask one by one)."""
        return self.filter is None or self.filter.test(document(entry.draft))

    def details(self) -> dict[str, Any]:
        details = {
            "id": self.id,
            "created": self.created,
            "uri": self.pattern.uri,
            "match": self.pattern.match,
        }
        if self.filter is not None:
            details["filter"] = self.filter.node
        return details
