"""Client identity: the client records behind WELCOME's `client_id`.

A browser session (token or anonymous) gets a client record when it is welcomed: its user,
its grants and its subscriptions, kept until `client_expires`. Reconnecting with the client id
(`previous_session`) resumes the record on the new session, restores its subscriptions and
recovers what they missed. Records live in the engine's `ClientStore`.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from ..auth.identity import Identity, ResumeRefused
from ..engines.base import ClientRecord, ClientStore, Clock, Position, Streams
from .recovery import Request
from .uri import Pattern

if TYPE_CHECKING:
    from ..config import GatewayConfig
    from ..session import Session
    from .broker import Broker, Subscription

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
        self._live: dict[str, Session] = {}

    def find(self, client_id: object) -> ClientRecord:
        """The unexpired record named by `previous_session`, or `ResumeRefused`."""
        record = None
        if isinstance(client_id, str):
            record = self._store.get(client_id, self._clock())
        if record is None:
            raise ResumeRefused("unknown or expired previous_session")
        return record

    def claim(self, client_id: object, user: str | None) -> ClientRecord:
        """The record `user` may resume as `previous_session`, or `ResumeRefused`."""
        record = self.find(client_id)
        if record.user != user:
            raise ResumeRefused("previous_session belongs to another user")
        return record

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
        if identity.extends or identity.previous is None:
            record.expires_at = int(self._clock() + self._ttl)
        restored = self._restore(session, record)
        record.subscriptions = [s.pattern for s in restored]
        record.persistent = {
            p: record.persistent[p] for p in record.subscriptions if p in record.persistent
        }
        recoveries = [(s, r) for s in restored if (r := self._request(record, s.pattern, recover))]
        record.left_at = None
        session.client_id = record.client_id
        self._live[record.client_id] = session
        self._store.put(record)
        authextra = {
            "client_id": record.client_id,
            "client_expires": record.expires_at,
            "resumed": identity.previous is not None,
            "subscriptions": [subscription_details(s, record) for s in restored],
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

    def _replace(self, client_id: str) -> None:
        previous = self._live.get(client_id)
        if previous is not None:
            previous.abort(SESSION_REPLACED, "this client id was resumed by another session")

    def _restore(self, session: Session, record: ClientRecord) -> list[Subscription]:
        # Only what the session may subscribe to now: a fresh token may grant less than before.
        assert session.permissions is not None
        allowed = [p for p in record.subscriptions if session.permissions.allows("subscribe", p)]
        return [self._broker.restore(session, pattern) for pattern in allowed]

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
        record = self._record_of(session)
        del self._live[session.client_id]
        if record is None:
            return
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

    def _record_of(self, session: Session) -> ClientRecord | None:
        if session.client_id is None or self._live.get(session.client_id) is not session:
            return None
        return self._store.get(session.client_id, self._clock())


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
    subscription: Subscription, record: ClientRecord | None = None
) -> dict[str, Any]:
    """A subscription as WELCOME's authextra and `telegraphy.subscriptions` describe it."""
    details: dict[str, Any] = {
        "id": subscription.id,
        "topic": subscription.pattern.uri,
        "match": subscription.pattern.match,
    }
    if record is not None and subscription.pattern in record.persistent:
        details["persistent"] = True
    return details
