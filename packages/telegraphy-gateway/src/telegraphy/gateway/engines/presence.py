"""Presence kept in this process's memory: the memory and SQLite engines' (members are
sessions of this process, so nothing of it needs to outlive a restart)."""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet import defer
from twisted.internet.defer import Deferred

from .base import JOIN, LEAVE, Member, PresenceChange


class MemoryPresence:
    def __init__(self) -> None:
        self._channels: dict[str, dict[str, Member]] = {}
        self._changed: Callable[[PresenceChange], None] = lambda change: None

    def bind(self, changed: Callable[[PresenceChange], None]) -> None:
        self._changed = changed

    def join(self, topic: str, member: Member) -> None:
        members = self._channels.setdefault(topic, {})
        present = member.client_id in members
        members[member.client_id] = member
        if not present:
            self._changed(PresenceChange(JOIN, topic, member, len(members)))

    def leave(self, topic: str, client_id: str) -> None:
        members = self._channels.get(topic, {})
        member = members.pop(client_id, None)
        if not members:
            self._channels.pop(topic, None)
        if member is not None:
            self._changed(PresenceChange(LEAVE, topic, member, len(members)))

    def members(self, topic: str) -> Deferred[list[Member]]:
        return defer.succeed(list(self._channels.get(topic, {}).values()))
