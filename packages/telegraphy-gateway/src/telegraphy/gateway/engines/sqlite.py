"""The embedded engine: the memory engine, written through to one SQLite file so that a
restart keeps history, positions, client records and spent tokens.

Disk work runs in one writer thread that commits whatever has queued up in one transaction
(group commit), so the reactor never waits on the disk. A publication is delivered and
acknowledged only after its transaction commits: whatever a subscriber saw, a restart keeps.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorThreads
from twisted.logger import Logger

from .base import (
    Accepted,
    ClientRecord,
    Clock,
    EngineUnavailable,
    Entry,
    HistoryPolicy,
)
from .memory import MemoryClientStore, MemoryEngine, MemoryStreams, MemoryTokenLedger, Stream
from .serial import pack, record_from_json, record_to_json, unpack

log = Logger()

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streams (topic TEXT PRIMARY KEY, epoch TEXT NOT NULL,
    top INTEGER NOT NULL, dropped REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (topic TEXT NOT NULL, offset INTEGER NOT NULL,
    time REAL NOT NULL, publication INTEGER NOT NULL, event_id TEXT, payload BLOB NOT NULL,
    PRIMARY KEY (topic, offset)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accepted (event_id TEXT PRIMARY KEY, topic TEXT NOT NULL,
    offset INTEGER NOT NULL, expires REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, record TEXT NOT NULL,
    expires REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (token_id TEXT PRIMARY KEY, expires REAL NOT NULL)
    WITHOUT ROWID;
"""
SCHEMA_COLUMNS = {
    "meta": {"key", "value"},
    "streams": {"topic", "epoch", "top", "dropped"},
    "events": {"topic", "offset", "time", "publication", "event_id", "payload"},
    "accepted": {"event_id", "topic", "offset", "expires"},
    "clients": {"client_id", "record", "expires"},
    "tokens": {"token_id", "expires"},
}
UPSERT_STREAM = (
    "INSERT INTO streams VALUES (?, ?, ?, ?) ON CONFLICT (topic) "
    "DO UPDATE SET top = excluded.top, dropped = max(dropped, excluded.dropped)"
)
TRIM_STREAM = "DELETE FROM events WHERE topic = ? AND offset <= ?"
LAST_PER_TOPIC = frozenset({UPSERT_STREAM, TRIM_STREAM})
MAX_BATCH = 2000
"""Statements groups committed in one transaction at most."""

Statement = tuple[str, tuple[Any, ...]]
Done = Callable[[BaseException | None], None]


class EngineFailed(EngineUnavailable):
    """The engine could not write; nothing more is accepted until the gateway restarts."""


class Writer:
    """One thread that owns the write connection and commits queued work in batches."""

    def __init__(self, path: Path, threads: IReactorThreads) -> None:
        self._threads = threads
        self._queue: queue.SimpleQueue[tuple[list[Statement], Done | None] | None] = (
            queue.SimpleQueue()
        )
        self._failure: BaseException | None = None
        self._connection = connect(path)
        self._connection.executescript(SCHEMA)
        check_schema(self._connection, path)
        self._stopped: Deferred[None] = Deferred()
        self._thread = threading.Thread(target=self._run, name="telegraphy-sqlite", daemon=True)
        self._thread.start()

    def submit(self, statements: list[Statement], done: Done | None = None) -> None:
        if self._failure is not None:
            if done is not None:
                done(EngineFailed(f"the SQLite engine failed earlier: {self._failure}"))
            return
        self._queue.put((statements, done))

    def stop(self) -> Deferred[None]:
        self._queue.put(None)
        return self._stopped

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._commit(batch)
        self._connection.close()
        self._threads.callFromThread(self._stopped.callback, None)

    def _commit(self, batch: list[tuple[list[Statement], Done | None]]) -> None:
        error: BaseException | None = self._failure
        if error is None:
            # One executemany per statement, in the order statements first appear: what the
            # engines write commutes across statements (inserts of distinct keys, upserts in
            # order, deletes of what is already out of history).
            # A statement in LAST_PER_TOPIC only needs its last row per topic (its first
            # parameter): a stream's top and trim point only move forward.
            grouped: dict[str, dict[Any, tuple[Any, ...]]] = {}
            for statements, _ in batch:
                for sql, parameters in statements:
                    rows = grouped.setdefault(sql, {})
                    rows[parameters[0] if sql in LAST_PER_TOPIC else len(rows)] = parameters
            try:
                with self._connection:
                    for sql, keyed in grouped.items():
                        self._connection.executemany(sql, keyed.values())
            except sqlite3.Error as e:
                self._failure = error = e
                self._threads.callFromThread(_log_failure, e)
        dones = [done for _, done in batch if done is not None]
        if dones:
            self._threads.callFromThread(_finish, dones, error)


def _log_failure(error: BaseException) -> None:
    log.critical(
        "the SQLite engine cannot write ({error}); publications are refused until the gateway "
        "restarts",
        error=str(error),
        event="engine.unavailable",
    )


def _finish(dones: list[Done], error: BaseException | None) -> None:
    failure = None if error is None else EngineFailed(f"the SQLite engine cannot write: {error}")
    for done in dones:
        done(failure)


def check_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse a file whose tables another version of the gateway wrote."""
    for table, columns in SCHEMA_COLUMNS.items():
        found = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if found != columns:
            raise sqlite3.DatabaseError(
                f"its table {table} was written by another version of telegraphy-gateway; "
                f"move {path} away to start with an empty history"
            )


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.isolation_level = "DEFERRED"
    # WAL: readers never block the writer; NORMAL: a commit survives a crash of this process
    # (the OS has the WAL), though not a power loss between checkpoints.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


class SqliteStreams(MemoryStreams):
    def __init__(
        self,
        writer: Writer,
        policy: Callable[[str], HistoryPolicy],
        dedupe_window: float,
        clock: Clock,
    ) -> None:
        super().__init__(policy, dedupe_window, clock)
        self._writer = writer

    def _write(self, entry: Entry) -> Deferred[Accepted]:
        written: Deferred[Accepted] = Deferred()
        draft = entry.draft
        stream = self._streams[entry.topic]
        statements: list[Statement] = [
            (
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                (
                    entry.topic,
                    entry.offset,
                    entry.time,
                    entry.publication,
                    draft.event_id,
                    pack(draft),
                ),
            ),
            (UPSERT_STREAM, (entry.topic, entry.epoch, entry.offset, _dropped_by(stream, entry))),
            (TRIM_STREAM, (entry.topic, entry.offset - stream.policy.size)),
        ]
        if draft.event_id is not None:
            statements.append(
                (
                    "INSERT OR REPLACE INTO accepted VALUES (?, ?, ?, ?)",
                    (draft.event_id, entry.topic, entry.offset, entry.time + self._dedupe_window),
                )
            )

        def done(error: BaseException | None) -> None:
            if error is not None:
                self._failed(entry)
                return written.errback(error)
            try:
                accepted = self._delivered(entry)
            except Exception:  # the fan-out failed: whoever waits for the answer is told
                return written.errback()
            written.callback(accepted)

        self._writer.submit(statements, done)
        return written

    def load(self, connection: sqlite3.Connection) -> None:
        """Take up the streams, history and event ids the file holds."""
        self.complete_since = _created(connection, self._clock())
        streams = connection.execute("SELECT topic, epoch, top, dropped FROM streams")
        for topic, epoch, top, dropped in streams:
            stream = self._streams[topic] = Stream(epoch, self._policy(topic), top)
            stream.dropped_time = dropped
        rows = connection.execute(
            "SELECT topic, offset, epoch, time, publication, event_id, payload "
            "FROM events JOIN streams USING (topic) ORDER BY topic, offset"
        )
        for topic, offset, epoch, at, publication, event_id, payload in rows:
            stream = self._streams[topic]
            stream.append(Entry(unpack(topic, event_id, payload), offset, epoch, publication, at))
        for stream in self._streams.values():
            stream.top = stream.assigned  # the streams table's top, which append() moved
        now = self._clock()
        for event_id, topic, offset, expires in connection.execute(
            "SELECT event_id, topic, offset, expires FROM accepted WHERE expires > ?", (now,)
        ):
            kept = self._streams.get(topic)
            epoch = "" if kept is None else kept.epoch
            self._remember(event_id, topic, offset, epoch, expires - self._dedupe_window)
        self.expire()

    def expire(self) -> None:
        firsts = {topic: _first(stream) for topic, stream in self._streams.items()}
        super().expire()
        statements: list[Statement] = []
        for topic, stream in self._streams.items():
            if _first(stream) != firsts[topic]:
                statements += [
                    ("DELETE FROM events WHERE topic = ? AND offset < ?", (topic, _first(stream))),
                    (
                        "UPDATE streams SET dropped = max(dropped, ?) WHERE topic = ?",
                        (stream.dropped_time, topic),
                    ),
                ]
        statements.append(("DELETE FROM accepted WHERE expires <= ?", (self._clock(),)))
        self._writer.submit(statements)


def _first(stream: Stream) -> int:
    return stream.entries[0].offset if stream.entries else stream.top + 1


def _dropped_by(stream: Stream, entry: Entry) -> float:
    """The time of the newest publication out of history once `entry` is in: a time
    recovery must not reach back past (kept across restarts in the streams table)."""
    evicted = entry.offset - stream.policy.size
    entries = stream.entries
    if evicted <= 0:
        return stream.dropped_time
    if entries and entries[0].offset <= evicted <= entries[-1].offset:
        return max(stream.dropped_time, entries[evicted - entries[0].offset].time)
    return max(stream.dropped_time, entry.time if stream.policy.size <= 0 else 0.0)


def _created(connection: sqlite3.Connection, now: float) -> float:
    """When this file's history began (before it, everything was lost, or never was)."""
    with connection:
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (now,))
    (created,) = connection.execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
    return float(created)


class SqliteClientStore(MemoryClientStore):
    def __init__(self, writer: Writer, clock: Clock) -> None:
        super().__init__(clock)
        self._writer = writer

    def put(self, record: ClientRecord) -> None:
        super().put(record)
        self._writer.submit(
            [
                (
                    "INSERT OR REPLACE INTO clients VALUES (?, ?, ?)",
                    (record.client_id, json.dumps(record_to_json(record)), record.expires_at),
                )
            ]
        )

    def expire(self) -> list[str]:
        gone = super().expire()
        if gone:
            self._writer.submit([("DELETE FROM clients WHERE expires <= ?", (self._clock(),))])
        return gone

    def load(self, connection: sqlite3.Connection) -> None:
        rows = connection.execute("SELECT record FROM clients WHERE expires > ?", (self._clock(),))
        for (text,) in rows:
            MemoryClientStore.put(self, record_from_json(json.loads(text)))


class SqliteTokenLedger(MemoryTokenLedger):
    def __init__(self, writer: Writer, clock: Clock) -> None:
        super().__init__(clock)
        self._writer = writer

    def _spend(self, token_id: str, expires_at: float) -> bool:
        if not super()._spend(token_id, expires_at):
            return False
        self._writer.submit(
            [("INSERT OR REPLACE INTO tokens VALUES (?, ?)", (token_id, expires_at))]
        )
        return True

    def load(self, connection: sqlite3.Connection) -> None:
        now = self._clock()
        for token_id, expires in connection.execute(
            "SELECT token_id, expires FROM tokens WHERE expires > ?", (now,)
        ):
            MemoryTokenLedger._spend(self, token_id, expires)


class SqliteEngine(MemoryEngine):
    """The memory engine with every change written to `path` and read back at start."""

    name = "sqlite"

    def __init__(
        self,
        path: Path,
        policy: Callable[[str], HistoryPolicy],
        dedupe_window: float,
        clock: Clock = time.time,
        reactor: Any = reactor,
    ) -> None:
        self.path = path
        self._writer = Writer(path, reactor)
        super().__init__(policy, dedupe_window, clock, reactor)
        self.clients = SqliteClientStore(self._writer, clock)
        self.tokens = SqliteTokenLedger(self._writer, clock)
        with connect(path) as connection:
            self.streams.load(connection)
            self.clients.load(connection)
            self.tokens.load(connection)
        connection.close()

    def _streams(
        self, policy: Callable[[str], HistoryPolicy], dedupe_window: float, clock: Clock
    ) -> SqliteStreams:
        return SqliteStreams(self._writer, policy, dedupe_window, clock)

    streams: SqliteStreams
    clients: SqliteClientStore
    tokens: SqliteTokenLedger

    def expire(self) -> None:
        super().expire()
        self._writer.submit([("DELETE FROM tokens WHERE expires <= ?", (self._clock_now(),))])

    def problem(self) -> str | None:
        failure = self._writer.failure
        return None if failure is None else f"the SQLite engine cannot write: {failure}"

    def _clock_now(self) -> float:
        return self.streams._clock()

    def stop(self) -> Deferred[None]:
        super().stop()
        return self._writer.stop()
