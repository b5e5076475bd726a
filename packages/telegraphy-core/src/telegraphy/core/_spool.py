"""The disk spool: events the publisher could not keep in memory, in order, in SQLite.

One table, ordered by rowid. Rows are appended at the end by `send()` and taken from the front
by the worker; on close, what was still in memory (older than any spooled row) goes in front.
A spool file belongs to one process at a time, enforced with a lock file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable

from ._envelope import Envelope
from ._errors import ConfigurationError, EventError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one process per spool is then on the user.
    fcntl = None  # type: ignore[assignment]

SCHEMA = "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, envelope TEXT NOT NULL)"


class Spool:
    """A bounded, ordered queue of envelopes on disk, safe to use from several threads."""

    def __init__(self, path: str, capacity: int) -> None:
        self.path = path
        self._capacity = capacity
        self._lock = threading.Lock()
        self._lock_fd = _lock_file(path + ".lock")
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # WAL + NORMAL: a committed row survives the process crashing (not a power cut), and an
        # append costs tens of microseconds rather than an fsync.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)
        self._count: int = self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def __len__(self) -> int:
        return self._count

    def append(self, envelope: Envelope) -> bool:
        """Add `envelope` at the end; False when the spool is full."""
        text = _encode(envelope)
        with self._lock:
            if self._count >= self._capacity:
                return False
            self._db.execute("INSERT INTO events (envelope) VALUES (?)", (text,))
            self._count += 1
        return True

    def prepend(self, envelopes: Iterable[Envelope]) -> int:
        """Put `envelopes` in front of every row, in their order, as far as the bound allows.

        Returns how many were stored; the rest are the caller's to report.
        """
        texts = [_encode(e) for e in envelopes]
        with self._lock:
            texts = texts[: max(0, self._capacity - self._count)]
            first = self._db.execute("SELECT MIN(seq) FROM events").fetchone()[0]
            start = (1 if first is None else first) - len(texts)
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO events (seq, envelope) VALUES (?, ?)",
                    ((start + i, text) for i, text in enumerate(texts)),
                )
            self._count += len(texts)
        return len(texts)

    def peek(self, limit: int) -> list[tuple[int, Envelope]]:
        """The first `limit` rows, oldest first, as (seq, envelope); they stay in the spool."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, envelope FROM events ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(seq, json.loads(text)) for seq, text in rows]

    def remove(self, first: int, last: int) -> None:
        """Forget the rows from `first` to `last` (delivered, or rejected for good)."""
        with self._lock:
            removed = self._db.execute(
                "DELETE FROM events WHERE seq BETWEEN ? AND ?", (first, last)
            ).rowcount
            self._count -= removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def abandon(self) -> None:
        """In a forked child: let go of the parent's spool without touching its database."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _encode(envelope: Envelope) -> str:
    try:
        return json.dumps(envelope, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise EventError(f"the event cannot be encoded as JSON: {e}") from e


def _lock_file(path: str) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise ConfigurationError(
            f"spool_path {path[: -len('.lock')]} is in use by another process; give each "
            "process its own spool_path (create the publisher after fork, with a path per worker)"
        ) from None
    return fd
