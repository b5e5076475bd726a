"""The memory engine: streams, client records and spent tokens in this process only.

Nothing survives a restart; the SQLite engine builds on these and writes them to disk.
"""

from __future__ import annotations

import bisect
import heapq
import secrets
import time
from collections import deque
from collections.abc import Callable

from twisted.internet import defer, task
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from ..router.ids import publication_id
from ..router.uri import Pattern
from .base import (
    GAP_EPOCH_CHANGED,
    GAP_INVALID_POSITION,
    GAP_TOO_MANY,
    GAP_TOO_OLD,
    Accepted,
    ClientRecord,
    Clock,
    Deliver,
    Draft,
    EngineUnavailable,
    Entry,
    HistoryPolicy,
    Position,
    Recovery,
    Since,
)
from .presence import MemoryPresence

EXPIRY_INTERVAL = 5.0
"""Seconds between two sweeps that drop expired history, ids, records and tokens."""


def new_epoch() -> str:
    return secrets.token_hex(4)


class Stream:
    """One topic's history: the newest publications, oldest first, and the last offset."""

    __slots__ = ("assigned", "dropped_time", "entries", "epoch", "policy", "times", "top")

    def __init__(self, epoch: str, policy: HistoryPolicy, top: int = 0) -> None:
        self.epoch = epoch
        self.policy = policy
        self.top = top  # the last offset delivered
        self.assigned = top  # the last offset given (ahead of `top` while a write is pending)
        self.entries: deque[Entry] = deque()
        self.times: deque[float] = deque()  # entries' times, for bisection by time
        self.dropped_time = 0.0  # the time of the newest entry dropped from history

    def append(self, entry: Entry) -> None:
        self.top = entry.offset
        if self.policy.size <= 0:
            self.dropped_time = entry.time
            return
        self.entries.append(entry)
        self.times.append(entry.time)
        while len(self.entries) > self.policy.size:
            self._drop()

    def expire(self, now: float) -> None:
        limit = now - self.policy.ttl
        while self.times and self.times[0] < limit:
            self._drop()

    def _drop(self) -> None:
        self.entries.popleft()
        self.dropped_time = self.times.popleft()

    def since(self, since: Since, limit: int) -> Recovery:
        top = Position(self.top, self.epoch)
        if since.position is not None:
            return self._after(since.position, limit, top)
        start = since.time
        if start is None:
            return Recovery("", top)
        if self.dropped_time >= start:
            return Recovery("", top, gap=GAP_TOO_OLD)
        first = bisect.bisect_left(self.times, start)
        return self._slice(first, limit, top)

    def _after(self, position: Position, limit: int, top: Position) -> Recovery:
        # Offset 0 has seen nothing, in whichever epoch: everything kept is what it missed.
        if position.offset != 0 and position.epoch != self.epoch:
            return Recovery("", top, gap=GAP_EPOCH_CHANGED)
        if not 0 <= position.offset <= self.top:
            return Recovery("", top, gap=GAP_INVALID_POSITION)
        first = self.entries[0].offset if self.entries else self.top + 1
        if position.offset + 1 < first:
            return Recovery("", top, gap=GAP_TOO_OLD)
        return self._slice(position.offset + 1 - first, limit, top)

    def _slice(self, start: int, limit: int, top: Position) -> Recovery:
        if len(self.entries) - start > limit:
            return Recovery("", top, gap=GAP_TOO_MANY)
        entries = tuple(self.entries[i] for i in range(start, len(self.entries)))
        return Recovery("", top, entries)


class _Expiring:
    """Keys forgotten at their expiry: a heap of (expiry, key)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []

    def add(self, key: str, expires_at: float) -> None:
        heapq.heappush(self._heap, (expires_at, key))

    def expired(self, now: float) -> list[tuple[float, str]]:
        gone: list[tuple[float, str]] = []
        while self._heap and self._heap[0][0] <= now:
            gone.append(heapq.heappop(self._heap))
        return gone


class MemoryStreams:
    """Streams kept in memory. `publish` delivers and resolves at once; subclasses that must
    write first override `_write`."""

    def __init__(
        self,
        policy: Callable[[str], HistoryPolicy],
        dedupe_window: float,
        clock: Clock = time.time,
    ) -> None:
        self._policy = policy
        self._dedupe_window = dedupe_window
        self._clock = clock
        self._streams: dict[str, Stream] = {}
        self._deliver: Deliver = _nowhere
        # Event id -> where its publication was kept (without its payload), and the
        # Deferreds of publications with an id that are still being written.
        self._accepted: dict[str, Entry] = {}
        self._pending: dict[str, Deferred[Accepted]] = {}
        self._accepted_expiry = _Expiring()
        # History is complete from this time on: what was published before it is lost.
        self.complete_since = clock()

    def bind(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def publish(self, draft: Draft) -> Deferred[Accepted]:
        event_id = draft.event_id
        if event_id is not None and (event_id in self._accepted or event_id in self._pending):
            return self._duplicate(event_id)
        stream = self._stream(draft.topic)
        stream.assigned += 1
        now = max(self._clock(), stream.times[-1] if stream.times else 0.0)
        entry = Entry(draft, stream.assigned, stream.epoch, publication_id(), now)
        written = self._write(entry)
        if event_id is not None and not written.called:
            self._pending[event_id] = written  # until `_delivered` or `_failed`
        return written

    def _write(self, entry: Entry) -> Deferred[Accepted]:
        return defer.succeed(self._delivered(entry))

    def _delivered(self, entry: Entry) -> Accepted:
        """The entry is in history: keep it, hand it to the broker, and resolve."""
        self._streams[entry.topic].append(entry)
        event_id = entry.draft.event_id
        if event_id is not None:
            self._pending.pop(event_id, None)
            self._remember(event_id, entry.topic, entry.offset, entry.epoch, entry.time)
        self._deliver(entry)
        return Accepted(entry)

    def _failed(self, entry: Entry) -> None:
        """The entry could not be kept: a retry of its event id must publish it."""
        if entry.draft.event_id is not None:
            self._pending.pop(entry.draft.event_id, None)

    def _remember(self, event_id: str, topic: str, offset: int, epoch: str, at: float) -> None:
        light = Entry(Draft(topic, event_id=event_id), offset, epoch, 0, at)
        self._accepted[event_id] = light
        self._accepted_expiry.add(event_id, at + self._dedupe_window)

    def _duplicate(self, event_id: str) -> Deferred[Accepted]:
        known = self._accepted.get(event_id)
        if known is not None:
            return defer.succeed(Accepted(known, duplicate=True))
        waiting: Deferred[Accepted] = Deferred()

        def settle(result: object) -> object:
            kept = self._accepted.get(event_id)
            if kept is not None:
                waiting.callback(Accepted(kept, duplicate=True))
            else:
                waiting.errback(EngineUnavailable("the first copy of this event was not kept"))
            return result

        self._pending[event_id].addBoth(settle)
        return waiting

    def _stream(self, topic: str) -> Stream:
        stream = self._streams.get(topic)
        if stream is None:
            stream = self._streams[topic] = Stream(new_epoch(), self._policy(topic))
        return stream

    def recover(self, topic: str, since: Since, limit: int) -> Deferred[Recovery]:
        stream = self._streams.get(topic)
        top = Position(0, "") if stream is None else Position(stream.top, stream.epoch)
        if since.position is None and since.time is not None and since.time < self.complete_since:
            # A time before this history began (a restart of the memory engine): lost.
            return defer.succeed(Recovery(topic, top, gap=GAP_EPOCH_CHANGED))
        if stream is None:  # never published, or forgotten: nothing to give (none is created)
            lost = since.position is not None and since.position.offset != 0
            return defer.succeed(Recovery(topic, top, gap=GAP_EPOCH_CHANGED if lost else None))
        stream.expire(self._clock())
        found = stream.since(since, limit)
        return defer.succeed(Recovery(topic, found.position, found.entries, found.gap))

    def history(self, topic: str, limit: int) -> Deferred[list[Entry]]:
        stream = self._streams.get(topic)
        if stream is None or limit <= 0:
            return defer.succeed([])
        stream.expire(self._clock())
        return defer.succeed(list(stream.entries)[-limit:])

    def topics(self, pattern: Pattern) -> Deferred[list[str]]:
        return defer.succeed([t for t in self._streams if pattern.matches(t)])

    def top(self, topic: str) -> Position | None:
        stream = self._streams.get(topic)
        return None if stream is None else Position(stream.top, stream.epoch)

    def follow(self, topic: str) -> None:
        pass  # every top is known here

    def expire(self) -> None:
        """Drop history older than its topic's ttl, and event ids past the dedupe window."""
        now = self._clock()
        for stream in self._streams.values():
            stream.expire(now)
        for expires_at, event_id in self._accepted_expiry.expired(now):
            known = self._accepted.get(event_id)
            # An id accepted again after its window is scheduled again, later.
            if known is not None and known.time + self._dedupe_window <= expires_at:
                del self._accepted[event_id]


def _nowhere(entry: Entry) -> None:
    raise RuntimeError("streams are not bound to a broker")


class MemoryClientStore:
    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._records: dict[str, ClientRecord] = {}
        self._scheduled: dict[str, float] = {}  # client id -> the expiry it is forgotten at
        self._expiring = _Expiring()

    def get(self, client_id: str, now: float) -> Deferred[ClientRecord | None]:
        record = self._records.get(client_id)
        return defer.succeed(record if record is not None and record.expires_at > now else None)

    def hold(self, client_id: str) -> None:
        pass  # one process: the registry replaces its own sessions

    def bind_taken(self, taken: Callable[[str], None]) -> None:
        pass

    def put(self, record: ClientRecord) -> None:
        self.expire()
        if self._scheduled.get(record.client_id) != record.expires_at:
            self._scheduled[record.client_id] = record.expires_at
            self._expiring.add(record.client_id, record.expires_at)
        self._records[record.client_id] = record

    def expire(self) -> list[str]:
        """Forget expired records; return their ids."""
        gone = []
        for expires_at, client_id in self._expiring.expired(self._clock()):
            # A record whose expiry was extended since is scheduled again, later.
            if self._scheduled.get(client_id) == expires_at:
                del self._records[client_id], self._scheduled[client_id]
                gone.append(client_id)
        return gone


class MemoryTokenLedger:
    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._spent: set[str] = set()
        self._expiring = _Expiring()

    def spend(self, token_id: str, expires_at: float) -> Deferred[bool]:
        return defer.succeed(self._spend(token_id, expires_at))

    def _spend(self, token_id: str, expires_at: float) -> bool:
        self.expire()
        if token_id in self._spent:
            return False
        self._spent.add(token_id)
        self._expiring.add(token_id, expires_at)
        return True

    def expire(self) -> None:
        for _, gone in self._expiring.expired(self._clock()):
            self._spent.discard(gone)


class MemoryEngine:
    """Everything in this process's memory: fast, and forgotten at a restart."""

    name = "memory"
    shared = False

    def __init__(
        self,
        policy: Callable[[str], HistoryPolicy],
        dedupe_window: float,
        clock: Clock = time.time,
        reactor: IReactorTime | None = None,
    ) -> None:
        self.streams = self._streams(policy, dedupe_window, clock)
        self.clients = MemoryClientStore(clock)
        self.tokens = MemoryTokenLedger(clock)
        self.presence = MemoryPresence()
        self._reactor = reactor
        self._sweep: task.LoopingCall | None = None

    def _streams(
        self, policy: Callable[[str], HistoryPolicy], dedupe_window: float, clock: Clock
    ) -> MemoryStreams:
        return MemoryStreams(policy, dedupe_window, clock)

    def start(self) -> None:
        self._sweep = task.LoopingCall(self.expire)
        if self._reactor is not None:
            self._sweep.clock = self._reactor
        self._sweep.start(EXPIRY_INTERVAL, now=False)

    def expire(self) -> None:
        self.streams.expire()
        self.clients.expire()
        self.tokens.expire()

    def problem(self) -> str | None:
        return None

    def stop(self) -> Deferred[None]:
        if self._sweep is not None and self._sweep.running:
            self._sweep.stop()
        return defer.succeed(None)
