"""Client identity: the client records behind WELCOME's `client_id`.

A browser session (token or anonymous) gets a client record when it is welcomed: its user,
its grants and its subscriptions, kept until `client_expires`. Reconnecting with the client id
(`previous_session`) resumes the record on the new session, restores its subscriptions and
recovers what they missed. Records live in the engine's `ClientStore`.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, fail

from ..auth.identity import Identity, ResumeRefused
from ..engines.base import ClientRecord, ClientStore, Clock, Position, Streams
from .recovery import Request
from .uri import Pattern

if TYPE_CHECKING:
    from ..config import GatewayConfig
    from ..session import Session
    from .broker import Broker
    from .subscription import Subscription

SESSION_REPLACED = "telegraphy.error.session_replaced"


class ClientRegistry:
    """The realm's client records, and which live session holds each."""

    def __init__(
        self,
        store: ClientStore,
        broker: Broker,
        streams: Streams,
        config: GatewayConfig,
        clock: Clock = time.time,
    ) -> None:
        self._store = store
        self._broker = broker
        self._streams = streams
        self._clock = clock
        self._ttl = config.client_ttl
        self._persistent_ttl = config.persistent_ttl
        # The sessions holding a client record in this process, and those records.
        self._live: dict[str, Session] = {}
        self._records: dict[str, ClientRecord] = {}
        store.bind_taken(self._taken)

    def find(self, client_id: object) -> Deferred[ClientRecord]:
        """The unexpired record named by `previous_session`, or `ResumeRefused`."""
        if not isinstance(client_id, str):
            return fail(ResumeRefused("unknown or expired previous_session"))
        return self._store.get(client_id, self._clock()).addCallback(_found)

    def claim(self, client_id: object, user: str | None) -> Deferred[ClientRecord]:
        """The record `user` may resume as `previous_session`, or `ResumeRefused`."""
        return self.find(client_id).addCallback(_owned_by, user)

    def open(
        self, session: Session, identity: Identity, recover: Request | None
    ) -> tuple[dict[str, Any], list[tuple[Subscription, Request]]]:
        """Give `session` its client record (new or resumed, with the subscriptions restored);
        return WELCOME's authextra and the recoveries to start once WELCOME is sent."""
        record = identity.previous
        if record is None:
            record = ClientRecord(secrets.token_urlsafe(32), identity.user, identity.grants, 0)
        else:
            self._replace(record.client_id)
            record.grants = identity.grants
        record.info = identity.info
        if identity.extends or identity.previous is None:
            record.expires_at = int(self._clock() + self._ttl)
        held = self._restore(session, record)
        restored = [s for _, s in held]
        record.subscriptions = [p for p, _ in held]
        record.persistent = {
            p: record.persistent[p] for p in record.subscriptions if p in record.persistent
        }
        exact = {p.uri for p in record.subscriptions if p.match == "exact"}
        record.presence = [t for t in record.presence if t in exact]
        recoveries = [(s, r) for p, s in held if (r := self._request(record, p, recover))]
        record.left_at = None
        session.client_id = record.client_id
        self._live[record.client_id] = session
        self._records[record.client_id] = record
        self._store.put(record)
        if identity.previous is not None:
            self._store.hold(record.client_id)  # a session elsewhere on it ends
        authextra = {
            "client_id": record.client_id,
            "client_expires": record.expires_at,
            "resumed": identity.previous is not None,
            "subscriptions": [subscription_details(s, record, p) for p, s in held],
            "missed_events": _missed(identity, restored, recoveries),
        }
        return authextra, recoveries

    def _request(
        self, record: ClientRecord, pattern: Pattern, given: Request | None
    ) -> Request | None:
        """What a restored subscription recovers, when the client asked (HELLO's recover) or
        the subscription is persistent: the client's positions first, then where the gateway
        saw it leave (exact topics: the position; patterns: the time, for topics the client
        has no position for)."""
        kept = record.persistent.get(pattern)
        if given is None and kept is None:
            return None
        request = given.narrowed(pattern) if given is not None else Request()
        positions = {**(kept or {}), **request.positions}
        since = request.since
        if since is None and pattern.match != "exact":
            since = record.left_at
        return Request(positions, since)

    def _taken(self, client_id: str) -> None:
        """Another process resumed `client_id`: end the session here without writing its
        record (the other process holds the record now)."""
        session = self._live.pop(client_id, None)
        self._records.pop(client_id, None)
        if session is not None:
            session.abort(SESSION_REPLACED, "this client id was resumed by another session")

    def _replace(self, client_id: str) -> None:
        previous = self._live.get(client_id)
        if previous is not None:
            previous.abort(SESSION_REPLACED, "this client id was resumed by another session")

    def _restore(
        self, session: Session, record: ClientRecord
    ) -> list[tuple[Pattern, Subscription]]:
        # Only what the session may subscribe to now: a fresh token may grant less than before
        # (its filters apply anew, ANDed with the subscription's own).
        assert session.permissions is not None
        allowed = [p for p in record.subscriptions if session.permissions.allows("subscribe", p)]
        restored = [(p, self._broker.restore(session, p)) for p in allowed]
        return [(p, s) for p, s in restored if s is not None]

    def subscribed(self, session: Session, pattern: Pattern, persistent: bool) -> None:
        record = self._record_of(session)
        if record is None:
            return
        changed = pattern not in record.subscriptions
        if changed:
            record.subscriptions.append(pattern)
        if persistent and pattern not in record.persistent:
            record.persistent[pattern] = {}
            changed = True
        if changed:
            self._store.put(record)

    def unsubscribed(self, session: Session, pattern: Pattern) -> None:
        record = self._record_of(session)
        if record is not None and pattern in record.subscriptions:
            record.subscriptions.remove(pattern)
            record.persistent.pop(pattern, None)
            self._store.put(record)

    def closed(self, session: Session) -> None:
        """The session left; its record stays, to be resumed until it expires. Persistent
        subscriptions remember where the client stood, and keep the record longer."""
        if session.client_id is None or self._live.get(session.client_id) is not session:
            return
        record = self._records.pop(session.client_id)
        del self._live[session.client_id]
        now = self._clock()
        record.left_at = now
        for pattern, positions in record.persistent.items():
            if pattern.match == "exact":
                top = self._streams.top(pattern.uri)
                # No stream yet: the client saw nothing, so it must get whatever comes first.
                positions[pattern.uri] = top if top is not None else Position(0, "")
        if record.persistent:
            record.expires_at = max(record.expires_at, int(now + self._persistent_ttl))
        self._store.put(record)

    def present(self, session: Session, topic: str, present: bool) -> None:
        """Remember whether the client of `session` is present on `topic` (restored with it)."""
        record = self._record_of(session)
        if record is None or present == (topic in record.presence):
            return
        if present:
            record.presence.append(topic)
        else:
            record.presence.remove(topic)
        self._store.put(record)

    def presence_of(self, session: Session) -> list[str]:
        """The channel topics the client of `session` was present on when it resumed."""
        record = self._record_of(session)
        return [] if record is None else list(record.presence)

    def info_of(self, session: Session) -> Any:
        """The presence info of the client record `session` holds (None: none)."""
        record = self._record_of(session)
        return None if record is None else record.info

    def _record_of(self, session: Session) -> ClientRecord | None:
        if session.client_id is None or self._live.get(session.client_id) is not session:
            return None
        return self._records[session.client_id]


def _found(record: ClientRecord | None) -> ClientRecord:
    if record is None:
        raise ResumeRefused("unknown or expired previous_session")
    return record


def _owned_by(record: ClientRecord, user: str | None) -> ClientRecord:
    if record.user != user:
        raise ResumeRefused("previous_session belongs to another user")
    return record


def _missed(
    identity: Identity,
    restored: list[Subscription],
    recoveries: list[tuple[Subscription, Request]],
) -> str:
    """WELCOME's `missed_events`: "recovering" when every restored subscription recovers all
    it may have missed (each gets a recovery report), "none" when nothing was restored."""
    complete = [s for s, request in recoveries if _covers(request, s.pattern)]
    if identity.previous is None or len(complete) < len(restored):
        return "unknown"
    return "recovering" if restored else "none"


def _covers(request: Request, pattern: Pattern) -> bool:
    """Whether `request` reaches every topic `pattern` may have had events on."""
    if request.since is not None:
        return True
    return pattern.match == "exact" and pattern.uri in request.positions


def subscription_details(
    subscription: Subscription,
    record: ClientRecord | None = None,
    pattern: Pattern | None = None,
) -> dict[str, Any]:
    """A subscription as WELCOME's authextra and `telegraphy.subscriptions` describe it, with
    the `filter` the session asked for (`pattern`), as it gave it."""
    pattern = pattern or subscription.pattern
    details: dict[str, Any] = {
        "id": subscription.id,
        "topic": pattern.uri,
        "match": pattern.match,
    }
    if pattern.filter is not None:
        details["filter"] = json.loads(pattern.filter)
    if record is not None and pattern in record.persistent:
        details["persistent"] = True
    return details
