"""The publisher: `send()` queues an event and returns; a worker thread delivers batches.

Events wait in memory (up to `queue_size`), then on disk (the spool, if `spool_path` is set),
and leave only once the gateway has accepted them, in the order they were sent. See
docs/publisher.rst for the guarantees.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ._envelope import Envelope
from ._errors import (
    ConfigurationError,
    PublisherClosed,
    PublisherOverflow,
    RejectedError,
    TransportError,
)
from ._settings import ENV_PREFIX, Settings
from ._spool import Spool
from .transports import Transport, make_transport

logger = logging.getLogger(__name__)

FIRST_RETRY_DELAY = 0.1
CLOSE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Stats:
    """Counters since the publisher started, and what it holds now."""

    sent: int
    """Events `send()` accepted."""
    delivered: int
    """Events the gateway accepted."""
    retries: int
    """Delivery attempts that failed and were tried again."""
    rejected: int
    """Events the gateway refused for good, each logged at ERROR and dropped."""
    dropped: int
    """Events lost to a bound (`on_overflow="drop"`, or close without a spool), each logged."""
    queued: int
    """Events waiting in memory."""
    spooled: int
    """Events waiting on disk."""


@dataclass(frozen=True)
class _Batch:
    envelopes: list[Envelope]
    seqs: list[int] | None
    """Spool rows the batch was read from; None when it came from memory."""


class Publisher:
    """Hands events to the gateway from a background thread; see the module docstring.

    The worker thread starts with the first `send()` or `flush()`, so a publisher created
    before a fork (gunicorn --preload) only starts in the process that uses it.
    """

    def __init__(self, settings: Settings, transport: Transport | None = None) -> None:
        self.settings = settings
        self._transport = make_transport(settings) if transport is None else transport
        self._reset_state()
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _after_fork(ref))

    def _reset_state(self) -> None:
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # wakes the worker
        self._idle = threading.Condition(self._lock)  # wakes flush()
        self._memory: deque[Envelope] = deque()
        self._spool: Spool | None = None
        self._thread: threading.Thread | None = None
        self._closed = self._stopping = self._handed_over = False
        self._limit = self.settings.batch_size  # smaller while isolating a rejected event
        self._sent = self._delivered = self._retries = self._rejected = self._dropped = 0

    @property
    def stats(self) -> Stats:
        with self._lock:
            return Stats(
                sent=self._sent,
                delivered=self._delivered,
                retries=self._retries,
                rejected=self._rejected,
                dropped=self._dropped,
                queued=len(self._memory),
                spooled=self._spooled(),
            )

    def send(self, envelope: Envelope) -> None:
        """Queue `envelope` for delivery and return at once.

        Raises `EventError` if the transport can never carry it, `PublisherOverflow` when
        every bound is reached and `on_overflow` is "raise", `PublisherClosed` after close().
        """
        self._transport.check(envelope)
        with self._lock:
            if self._closed:
                raise PublisherClosed("the publisher is closed; events can no longer be sent")
            if self._thread is None:
                self._start()
            if not self._store(envelope):
                self._overflow(envelope)
                return
            self._sent += 1
            self._work.notify()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued event is delivered; False if `timeout` passed first."""
        with self._lock:
            if self._thread is None and not self._closed:
                self._start()
            return self._idle.wait_for(self._empty, timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Flush for up to `timeout` seconds, stop the worker, and keep what is left.

        What is still in memory goes to the spool (delivered at the next start) or, without a
        spool, is logged at ERROR as lost.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._closed:
                return
            started = self._thread is not None
        if started:
            self.flush(timeout)
        with self._lock:
            self._closed = self._stopping = True
            self._work.notify_all()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._hand_over()
        if self._thread is None or not self._thread.is_alive():
            self._transport.close()

    # The caller's side, with the lock held.

    def _start(self) -> None:
        if self.settings.spool_path is not None:
            self._spool = Spool(self.settings.spool_path, self.settings.spool_size)
        self._thread = threading.Thread(target=self._run, name="telegraphy-publisher", daemon=True)
        self._thread.start()

    def _store(self, envelope: Envelope) -> bool:
        # Spooled events are newer than those in memory: once the spool holds any, new events
        # follow them there until it drains, so that delivery stays in order.
        memory_full = len(self._memory) >= self.settings.queue_size
        if self._spool is not None and (memory_full or len(self._spool)):
            return self._spool.append(envelope)
        if memory_full:
            return False
        self._memory.append(envelope)
        return True

    def _overflow(self, envelope: Envelope) -> None:
        bounds = f"queue_size={self.settings.queue_size}"
        if self._spool is not None:
            bounds += f" and spool_size={self.settings.spool_size}"
        what = f"event {envelope.get('name')!r} id {envelope.get('meta', {}).get('id')!r}"
        if self.settings.on_overflow == "drop":
            self._dropped += 1
            logger.error(
                "telegraphy publisher full (%s): dropped %s (%d dropped so far)",
                bounds,
                what,
                self._dropped,
            )
            return
        logger.error("telegraphy publisher full (%s): refused %s", bounds, what)
        raise PublisherOverflow(
            f"the publisher holds {bounds} events waiting for the gateway; {what} was refused"
        )

    def _hand_over(self) -> None:
        """At close: keep what memory holds in the spool, or report it lost."""
        self._handed_over = True
        left = list(self._memory)
        self._memory.clear()
        kept = self._spool.prepend(left) if self._spool is not None and left else 0
        if kept:
            logger.warning("telegraphy publisher closed: %d event(s) kept in the spool", kept)
        if len(left) > kept:
            self._dropped += len(left) - kept
            logger.error(
                "telegraphy publisher closed with %d undelivered event(s) and nowhere to keep "
                "them (set spool_path to keep them): lost",
                len(left) - kept,
            )
        if self._spool is not None:
            self._spool.close()

    def _spooled(self) -> int:
        return 0 if self._spool is None or self._handed_over else len(self._spool)

    def _empty(self) -> bool:
        return not self._memory and not self._spooled()

    # The worker's side.

    def _run(self) -> None:
        failures = 0
        while (batch := self._next_batch()) is not None:
            try:
                self._transport.deliver(batch.envelopes)
            except TransportError as e:
                failures += 1
                self._failed(e, failures)
                continue
            except RejectedError as e:
                self._rejected_in(batch, e)
            except Exception as e:  # a transport's bug or data it cannot encode: isolate it too
                logger.exception("telegraphy publisher: the transport failed unexpectedly")
                self._rejected_in(batch, RejectedError(f"the transport failed: {e!r}"))
            else:
                self._delivered_all(batch)
            if failures:
                logger.info("telegraphy publisher: delivering again after %d failures", failures)
            failures = 0

    def _next_batch(self) -> _Batch | None:
        with self._lock:
            while not self._stopping and self._empty():
                self._idle.notify_all()
                self._work.wait()
            if self._stopping:
                return None
            if self._memory:
                return _Batch(list(islice(self._memory, self._limit)), None)
            assert self._spool is not None
            rows = self._spool.peek(self._limit)
            return _Batch([envelope for _, envelope in rows], [seq for seq, _ in rows])

    def _delivered_all(self, batch: _Batch) -> None:
        with self._lock:
            self._delivered += len(batch.envelopes)
            self._forget(batch, 0, len(batch.envelopes))

    def _rejected_in(self, batch: _Batch, error: RejectedError) -> None:
        size = len(batch.envelopes)
        index = error.index if error.index is not None and 0 <= error.index < size else None
        if index is None and size > 1:
            # Which event is at fault is unknown: try the first half alone, then the rest.
            with self._lock:
                self._limit = max(1, size // 2)
            return
        index = 0 if index is None else index
        envelope = batch.envelopes[index]
        logger.error(
            "telegraphy publisher: the gateway refused event %r id %r for good, dropped: %s",
            envelope.get("name"),
            envelope.get("meta", {}).get("id"),
            error,
        )
        with self._lock:
            self._rejected += 1
            self._limit = self.settings.batch_size
            self._forget(batch, index, index + 1)

    def _forget(self, batch: _Batch, start: int, stop: int) -> None:
        """Remove batch.envelopes[start:stop] from where they wait (lock held)."""
        if self._handed_over:
            return  # close() already kept them; delivering them twice beats losing them
        if batch.seqs is not None:
            assert self._spool is not None
            self._spool.remove(batch.seqs[start], batch.seqs[stop - 1])
        elif start == 0:
            for _ in range(stop):
                self._memory.popleft()
        else:
            del self._memory[start]
        if self._empty():
            self._idle.notify_all()

    def _failed(self, error: TransportError, failures: int) -> None:
        with self._lock:
            if self._stopping:
                return  # close() has reported what it could not deliver
            self._retries += 1
            waiting = len(self._memory) + self._spooled()
        if error.misconfigured:
            logger.error(
                "telegraphy publisher: the gateway refuses us, fix the configuration "
                "(%d event(s) kept, retrying): %s",
                waiting,
                error,
            )
        elif failures & (failures - 1) == 0:  # 1st, 2nd, 4th, 8th... failure: a bounded log
            logger.warning(
                "telegraphy publisher: delivery failed %d time(s), %d event(s) kept, retrying: %s",
                failures,
                waiting,
                error,
            )
        delay = min(self.settings.retry_max_delay, FIRST_RETRY_DELAY * 2 ** min(failures, 30))
        with self._lock:
            self._work.wait_for(lambda: self._stopping, delay * random.uniform(0.5, 1.0))

    def _after_fork(self) -> None:
        """In a forked child: the parent's queue and spool stay the parent's."""
        if self._spool is not None:
            self._spool.abandon()
        self._transport.close()
        closed = self._closed
        self._reset_state()
        self._closed = closed


def _after_fork(ref: weakref.ref[Publisher]) -> None:
    publisher = ref()
    if publisher is not None:
        publisher._after_fork()


_default: Publisher | None = None
_default_lock = threading.Lock()


def configure(settings: Settings | Mapping[str, Any]) -> Publisher:
    """Make the publisher `Event.send()` uses, from settings; closes the previous one."""
    global _default
    if not isinstance(settings, Settings):
        settings = Settings.from_mapping(settings)
    publisher = Publisher(settings)
    with _default_lock:
        previous, _default = _default, publisher
    if previous is not None:
        previous.close()
    return publisher


def default_publisher() -> Publisher:
    """The configured publisher; without one, made from TELEGRAPHY_* environment variables."""
    global _default
    with _default_lock:
        if _default is None:
            if ENV_PREFIX + "SECRET" not in os.environ:
                raise ConfigurationError(
                    "no Telegraphy publisher is configured: call telegraphy.core.configure("
                    "settings) (the Django and Flask adapters do) or set TELEGRAPHY_SECRET"
                )
            _default = Publisher(Settings.from_env())
        return _default


def get_publisher() -> Publisher:
    """The publisher events are sent with (see `configure`)."""
    return default_publisher()


@atexit.register
def _close_default() -> None:
    if _default is not None:
        _default.close()
