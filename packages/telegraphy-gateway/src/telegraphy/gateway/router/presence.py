"""Channel presence on the router side: which sessions of this process are members of which
channels, leaves held back for `leave_delay` (a page that reconnects does not flap), the
events of the presence topics, and the `telegraphy.presence` procedure (docs/presence.rst).

What is shared between gateways (the members, the join and leave decisions) is the engine's
`Presence`; this module keeps only what this process's sessions hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from telegraphy.core import EventError, channel_topic, presence_topic

from ..auth import USER_ROLE
from ..engines.base import Member, Presence, PresenceChange
from ..errors import InvalidArgument, NotAuthorized
from .uri import Pattern

if TYPE_CHECKING:
    from ..session import Session
    from .clients import ClientRegistry

PRESENCE = "telegraphy.presence"
"""The procedure that lists a channel's members."""

Publish = Callable[[str, list[Any]], None]


class Webhooks(Protocol):
    delivered: int
    dropped: int

    def changed(self, change: PresenceChange, channel: str) -> None: ...


class PresenceTracker:
    def __init__(
        self,
        presence: Presence,
        clients: ClientRegistry,
        channel_prefix: str,
        leave_delay: float,
        reactor: IReactorTime,
    ) -> None:
        self._presence = presence
        self._clients = clients
        self._channels = f"{channel_prefix}."
        self._leave_delay = leave_delay
        self._reactor = reactor
        self.publish: Publish = lambda topic, args: None
        self.webhooks: Webhooks | None = None
        # (channel topic, client id) -> the sessions of this process present as that member.
        self._held: dict[tuple[str, str], set[Session]] = {}
        self._of_session: dict[Session, set[str]] = {}
        self._leaving: dict[tuple[str, str], IDelayedCall] = {}
        presence.bind(self._changed)

    # -- the WAMP surface ------------------------------------------------------------------

    def asked(self, pattern: Pattern, option: Any) -> bool:
        """Whether SUBSCRIBE's `presence` option asks for membership (InvalidArgument if it
        cannot have it)."""
        if not isinstance(option, bool):
            raise InvalidArgument("the presence option must be true or false")
        if option and pattern.match != "exact":
            raise InvalidArgument("presence needs an exact subscription to a channel")
        if option:
            self.channel_of(pattern.uri)
        return option

    def channel_of(self, topic: str) -> str:
        """The channel name of a channel topic, or InvalidArgument."""
        if not topic.startswith(self._channels) or topic == self._channels:
            raise InvalidArgument(f"presence is for channels: topics under {self._channels!r}")
        return topic[len(self._channels) :]

    def topic(self, channel: Any) -> str:
        """The channel topic of `channel` (a channel name), or InvalidArgument."""
        try:
            return channel_topic(channel, self._channels[:-1])
        except EventError as e:
            raise InvalidArgument(f"{PRESENCE}: {e}") from None

    def members(self, caller: Session, channel: Any) -> Deferred[dict[str, Any]]:
        """`telegraphy.presence`: the members of `channel`, if `caller` may subscribe to it."""
        topic = self.topic(channel)
        assert caller.permissions is not None
        if not caller.permissions.allows("subscribe", Pattern(topic)):
            raise NotAuthorized(f"not authorized to see who is present in {channel!r}")
        found = self._presence.members(topic)

        def listed(members: list[Member]) -> dict[str, Any]:
            ordered = sorted(members, key=lambda m: m.client_id)
            return {
                "channel": channel,
                "count": len(ordered),
                "members": [m.wire() for m in ordered],
            }

        return found.addCallback(listed)

    # -- membership ------------------------------------------------------------------------

    def join(self, session: Session, topic: str) -> None:
        """`session` is present on `topic` (it subscribed with `presence`)."""
        self.channel_of(topic)
        member = self._member(session)
        key = (topic, member.client_id)
        pending = self._leaving.pop(key, None)
        if pending is not None and pending.active():
            pending.cancel()
        sessions = self._held.setdefault(key, set())
        if session in sessions:
            return
        sessions.add(session)
        self._of_session.setdefault(session, set()).add(topic)
        self._clients.present(session, topic, True)
        self._presence.join(topic, member)

    def rejoin(self, session: Session) -> None:
        """A resumed client's session: present again where its record was."""
        for topic in self._clients.presence_of(session):
            self.join(session, topic)

    def unsubscribed(self, session: Session, topic: str) -> None:
        """`session` has no subscription on `topic` any more: it leaves now."""
        if topic in self._of_session.get(session, ()):
            self._clients.present(session, topic, False)
            self._drop(session, topic, 0.0)

    def closed(self, session: Session) -> None:
        """`session` ended: its client leaves after `leave_delay`, unless it comes back."""
        delay = self._leave_delay if session.client_id is not None else 0.0
        for topic in list(self._of_session.get(session, ())):
            self._drop(session, topic, delay)
        self._of_session.pop(session, None)

    def _drop(self, session: Session, topic: str, delay: float) -> None:
        topics = self._of_session.get(session)
        if topics is not None:
            topics.discard(topic)
            if not topics:
                del self._of_session[session]
        key = (topic, self._member(session).client_id)
        sessions = self._held.get(key, set())
        sessions.discard(session)
        if sessions:
            return
        self._held.pop(key, None)
        if delay <= 0:
            self._presence.leave(*key)
        else:
            self._leaving[key] = self._reactor.callLater(delay, self._leave, key)

    def _leave(self, key: tuple[str, str]) -> None:
        del self._leaving[key]
        self._presence.leave(*key)

    def held(self) -> int:
        """Members held by sessions of this process, leaves held back included."""
        return len(self._held) + len(self._leaving)

    def _member(self, session: Session) -> Member:
        if session.client_id is None:  # a backend: present as its session
            return Member(f"session-{session.id}", session.authid)
        user = session.authid if session.authrole == USER_ROLE else None
        return Member(session.client_id, user, self._clients.info_of(session))

    # -- changes, from any process ---------------------------------------------------------

    def _changed(self, change: PresenceChange) -> None:
        channel = change.topic[len(self._channels) :]
        event = {
            "kind": change.kind,
            "channel": channel,
            "member": change.member.wire(),
            "count": change.count,
        }
        self.publish(presence_topic(channel), [event])
        if change.mine and self.webhooks is not None:
            self.webhooks.changed(change, channel)
