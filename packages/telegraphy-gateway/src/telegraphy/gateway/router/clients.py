"""Client identity: the client records behind WELCOME's `client_id`, and the ledger of spent
tokens.

A browser session (token or anonymous) gets a client record when it is welcomed: its user,
its grants and its subscriptions, kept until `client_expires`. Reconnecting with the client id
(`previous_session`) resumes the record on the new session. Records and spent tokens are kept
behind two small interfaces so that an engine shared by several gateways can hold them.
"""

from __future__ import annotations

import heapq
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from telegraphy.core import Grants

from .uri import Pattern

if TYPE_CHECKING:
    from ..session import Session
    from .broker import Subscription
    from .realm import Realm

SESSION_REPLACED = "telegraphy.error.session_replaced"
Clock = Callable[[], float]


@dataclass
class ClientRecord:
    client_id: str
    user: str | None
    grants: Grants
    expires_at: int
    # In the order they were made; each (uri, match) once.
    subscriptions: list[Pattern] = field(default_factory=list)


@dataclass(frozen=True)
class Identity:
    """Who an authenticated browser session is, and which client record it resumes, if any."""

    user: str | None
    grants: Grants
    previous: ClientRecord | None = None
    # A fresh token sets the expiry of a resumed record; a resume-only join does not.
    extends: bool = True


class ResumeRefused(Exception):
    """`previous_session` cannot be resumed; the message says why (sent in ABORT)."""


class ClientStore(Protocol):
    """Where client records live (in memory here; an engine may share them)."""

    def get(self, client_id: str, now: float) -> ClientRecord | None:
        """The record, unless it is unknown or expired at `now`."""
        ...

    def put(self, record: ClientRecord) -> None: ...


class TokenLedger(Protocol):
    """The token ids spent while their tokens could still be presented."""

    def spend(self, token_id: str, expires_at: float) -> bool:
        """Record `token_id` until `expires_at`; False if it was spent already."""
        ...


class _Expiring:
    """Keys forgotten at their expiry: a heap of (expiry, key), checked when anything is added."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []

    def add(self, key: str, expires_at: float) -> None:
        heapq.heappush(self._heap, (expires_at, key))

    def expired(self, now: float) -> list[tuple[float, str]]:
        gone: list[tuple[float, str]] = []
        while self._heap and self._heap[0][0] <= now:
            gone.append(heapq.heappop(self._heap))
        return gone


class MemoryClientStore:
    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._records: dict[str, ClientRecord] = {}
        self._scheduled: dict[str, float] = {}  # client id -> the expiry it is forgotten at
        self._expiring = _Expiring()

    def get(self, client_id: str, now: float) -> ClientRecord | None:
        record = self._records.get(client_id)
        return record if record is not None and record.expires_at > now else None

    def put(self, record: ClientRecord) -> None:
        for expires_at, client_id in self._expiring.expired(self._clock()):
            # A record whose expiry was extended since is scheduled again, later.
            if self._scheduled.get(client_id) == expires_at:
                del self._records[client_id], self._scheduled[client_id]
        if self._scheduled.get(record.client_id) != record.expires_at:
            self._scheduled[record.client_id] = record.expires_at
            self._expiring.add(record.client_id, record.expires_at)
        self._records[record.client_id] = record


class MemoryTokenLedger:
    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._spent: set[str] = set()
        self._expiring = _Expiring()

    def spend(self, token_id: str, expires_at: float) -> bool:
        for _, gone in self._expiring.expired(self._clock()):
            self._spent.discard(gone)
        if token_id in self._spent:
            return False
        self._spent.add(token_id)
        self._expiring.add(token_id, expires_at)
        return True


class ClientRegistry:
    """The realm's client records, and which live session holds each."""

    def __init__(self, realm: Realm, store: ClientStore, clock: Clock = time.time) -> None:
        self._realm = realm
        self._store = store
        self._clock = clock
        self._ttl = realm.config.client_ttl
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

    def open(self, session: Session, identity: Identity) -> dict[str, Any]:
        """Give `session` its client record (new or resumed, with the subscriptions restored)
        and return WELCOME's authextra. Called before WELCOME is sent."""
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
        session.client_id = record.client_id
        self._live[record.client_id] = session
        self._store.put(record)
        return {
            "client_id": record.client_id,
            "client_expires": record.expires_at,
            "resumed": identity.previous is not None,
            "subscriptions": [subscription_details(s) for s in restored],
            "missed_events": "unknown",
        }

    def _replace(self, client_id: str) -> None:
        previous = self._live.get(client_id)
        if previous is not None:
            previous.abort(SESSION_REPLACED, "this client id was resumed by another session")

    def _restore(self, session: Session, record: ClientRecord) -> list[Subscription]:
        # Only what the session may subscribe to now: a fresh token may grant less than before.
        assert session.permissions is not None
        allowed = [p for p in record.subscriptions if session.permissions.allows("subscribe", p)]
        return [self._realm.broker.restore(session, pattern) for pattern in allowed]

    def subscribed(self, session: Session, pattern: Pattern) -> None:
        record = self._record_of(session)
        if record is not None and pattern not in record.subscriptions:
            record.subscriptions.append(pattern)
            self._store.put(record)

    def unsubscribed(self, session: Session, pattern: Pattern) -> None:
        record = self._record_of(session)
        if record is not None and pattern in record.subscriptions:
            record.subscriptions.remove(pattern)
            self._store.put(record)

    def closed(self, session: Session) -> None:
        """The session left; its record stays, to be resumed until it expires."""
        if session.client_id is not None and self._live.get(session.client_id) is session:
            del self._live[session.client_id]

    def _record_of(self, session: Session) -> ClientRecord | None:
        if session.client_id is None or self._live.get(session.client_id) is not session:
            return None
        return self._store.get(session.client_id, self._clock())


def subscription_details(subscription: Subscription) -> dict[str, Any]:
    """A subscription as WELCOME's authextra and `telegraphy.subscriptions` describe it."""
    return {
        "id": subscription.id,
        "topic": subscription.pattern.uri,
        "match": subscription.pattern.match,
    }
