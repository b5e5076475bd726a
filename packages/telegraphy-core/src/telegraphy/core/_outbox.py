"""The transactional outbox's relay: delivers the rows a web app wrote to its outbox table.

The web app writes each event to a table in the same transaction as the change (the Django and
Flask adapters each have a store for their ORM); the relay leases the oldest undelivered rows,
hands them to the transport and marks them delivered. One lease is live at a time, so rows
leave in the order they were written. See docs/outbox.rst for the guarantees.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ._envelope import Envelope
from ._errors import ConfigurationError, RejectedError, TransportError
from ._publisher import FIRST_RETRY_DELAY
from .transports import Transport

logger = logging.getLogger(__name__)

PRUNE_EVERY = 60.0
"""Seconds between two prunings by a running relay."""


@dataclass(frozen=True)
class OutboxRow:
    """One event waiting in the outbox: its row id (the order) and what it carries."""

    id: int
    envelope: Envelope


class OutboxStore(Protocol):
    """The outbox table, seen through one ORM; each method is its own short transaction."""

    def claim(self, limit: int, lease: float) -> Sequence[OutboxRow]:
        """Lease up to `limit` of the oldest undelivered rows for `lease` seconds.

        Empty when nothing waits, or when another relay's lease is live (it holds older rows).
        """

    def settle(self, rows: Sequence[OutboxRow], error: str = "") -> None:
        """Mark `rows` done: delivered, or refused for good with `error`."""

    def release(self, rows: Sequence[OutboxRow]) -> None:
        """End the lease on `rows` early: they are claimed again, first, next time."""

    def lag(self) -> float | None:
        """Seconds the oldest undelivered row has waited; None when none waits."""

    def prune(self, older_than: float) -> int:
        """Delete the rows done more than `older_than` seconds ago; how many went."""


@dataclass(frozen=True)
class OutboxSettings:
    """How the outbox works. The adapters build this from OUTBOX_* settings."""

    KEYS: ClassVar[Mapping[str, str]] = {
        "OUTBOX": "enabled",
        "OUTBOX_RELAY": "relay",
        "OUTBOX_POLL_INTERVAL": "poll_interval",
        "OUTBOX_LEASE": "lease",
        "OUTBOX_KEEP": "keep",
    }
    """The adapters' setting names (Flask's with its prefix in front) and their fields."""

    enabled: bool = False
    relay: bool = True
    """Run a relay in each web process (False: only the relay commands deliver)."""
    poll_interval: float = 1.0
    """Seconds between two looks at the table when nothing woke the relay."""
    lease: float = 60.0
    """Seconds a relay holds the rows it took before another relay may take them."""
    keep: float | None = 86_400.0
    """Seconds delivered rows are kept for inspection before pruning; None keeps them."""

    def __post_init__(self) -> None:
        for name in ("enabled", "relay"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(
                    f"OUTBOX{'' if name == 'enabled' else '_RELAY'} must be True or False, "
                    f"got {getattr(self, name)!r}"
                )
        for name in ("poll_interval", "lease", "keep"):
            value = getattr(self, name)
            if name == "keep" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(
                    f"OUTBOX_{name.upper()} must be a positive number of seconds, got {value!r}"
                    + (" (None keeps delivered rows)" if name == "keep" else "")
                )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "") -> OutboxSettings:
        """From the OUTBOX_* keys of `data` (others are ignored); errors start with `where`."""
        values = {field: data[key] for key, field in cls.KEYS.items() if key in data}
        try:
            return cls(**values)
        except ConfigurationError as e:
            raise ConfigurationError(f"{where}{e}") from None


@dataclass(frozen=True)
class RelayStats:
    delivered: int
    """Rows the gateway accepted."""
    rejected: int
    """Rows the gateway refused for good (kept in the table with their error)."""
    retries: int
    """Deliveries that failed and were tried again."""


class Relay:
    """Moves rows from an outbox store to a transport, from a thread or a command's loop."""

    def __init__(
        self,
        store: OutboxStore,
        transport: Transport,
        settings: OutboxSettings,
        *,
        batch_size: int = 100,
        retry_max_delay: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.settings = settings
        self._transport = transport
        self._batch_size = self._limit = batch_size
        self._retry_max_delay = retry_max_delay
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._delivered = self._rejected = self._retries = 0
        self._last_prune = clock()

    @property
    def stats(self) -> RelayStats:
        with self._lock:
            return RelayStats(self._delivered, self._rejected, self._retries)

    def deliver_once(self) -> int:
        """Claim one batch and deliver it; how many rows were settled (0: nothing to take).

        Raises `TransportError` when the gateway cannot be reached (the rows are released).
        """
        rows = self.store.claim(self._limit, self.settings.lease)
        if not rows:
            return 0
        try:
            self._transport.deliver([row.envelope for row in rows])
        except TransportError:
            self.store.release(rows)
            raise
        except RejectedError as e:
            return self._refused(rows, e)
        self.store.settle(rows)
        with self._lock:
            self._delivered += len(rows)
            self._limit = self._batch_size
        return len(rows)

    def drain(self) -> int:
        """Deliver until nothing is left to take; how many rows were settled."""
        total = 0
        while settled := self.deliver_once():
            total += settled
        return total

    def prune_if_due(self) -> int:
        if self.settings.keep is None or self._clock() - self._last_prune < PRUNE_EVERY:
            return 0
        self._last_prune = self._clock()
        return self.store.prune(self.settings.keep)

    def _refused(self, rows: Sequence[OutboxRow], error: RejectedError) -> int:
        index = error.index if error.index is not None and 0 <= error.index < len(rows) else None
        if index is None and len(rows) > 1:
            # Which row is at fault is unknown: take half as many until it is alone.
            self.store.release(rows)
            with self._lock:
                self._limit = max(1, len(rows) // 2)
            return 0
        bad = rows[index or 0]
        logger.error(
            "telegraphy outbox: the gateway refused event %r id %r (row %d) for good: %s",
            bad.envelope.get("name"),
            bad.envelope.get("meta", {}).get("id"),
            bad.id,
            error,
        )
        self.store.settle([bad], str(error) or "refused")
        self.store.release([row for row in rows if row is not bad])
        with self._lock:
            self._rejected += 1
            self._limit = self._batch_size
        return 1

    # Running in the background.

    def start(self) -> None:
        """Run `run()` in a daemon thread (once; later calls change nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self.run, name="telegraphy-relay", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Look at the table now (a transaction that wrote rows has committed)."""
        self._wake.set()

    def interrupt(self) -> None:
        """Have `run()` return once the batch in hand is settled (safe in a signal handler)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread `start()` made, waiting up to `timeout` seconds, and disconnect."""
        self.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
        self._transport.close()

    def run(self, until_empty: bool = False) -> None:
        """Deliver until `stop()` (or, with `until_empty`, until nothing is left to take)."""
        failures = 0
        while not self._stop.is_set():
            try:
                settled = self.deliver_once()
                self.prune_if_due()
            except TransportError as e:
                failures += 1
                self._failed(e, failures)
                continue
            except Exception:  # the database is away, or a store's bug: keep the relay alive
                failures += 1
                logger.exception("telegraphy outbox: the relay failed, trying again")
                self._pause(failures)
                continue
            failures = 0
            if settled:
                continue
            if until_empty and self.store.lag() is None:
                return
            self._wake.wait(self.settings.poll_interval)
            self._wake.clear()

    def _failed(self, error: TransportError, failures: int) -> None:
        with self._lock:
            self._retries += 1
        if error.misconfigured or failures & (failures - 1) == 0:  # 1st, 2nd, 4th... failure
            logger.warning(
                "telegraphy outbox: delivery failed %d time(s), the rows stay in the outbox: %s",
                failures,
                error,
            )
        self._pause(failures)

    def _pause(self, failures: int) -> None:
        delay = min(self._retry_max_delay, FIRST_RETRY_DELAY * 2 ** min(failures, 30))
        self._stop.wait(delay * random.uniform(0.5, 1.0))


class ProcessRelays:
    """The relay threads a web process runs, one per key (a database, an app): started once,
    forgotten in a forked child (whose first request starts its own), stopped at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._relays: dict[object, Relay] = {}
        self._started: set[object] = set()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forget)
        atexit.register(self.stop)

    def start_once(self, key: object, start: Callable[[], Relay | None]) -> None:
        """Call `start` the first time `key` is seen; keep and run the relay it returns."""
        with self._lock:
            if key in self._started:
                return
            self._started.add(key)
            try:
                relay = start()
            except BaseException:
                self._started.discard(key)  # bad settings: the next request says so again
                raise
            if relay is not None:
                self._relays[key] = relay
                relay.start()

    def get(self, key: object) -> Relay | None:
        return self._relays.get(key)

    def wake(self, key: object) -> None:
        relay = self._relays.get(key)
        if relay is not None:
            relay.wake()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every relay; each settles the batch in hand first."""
        with self._lock:
            relays = list(self._relays.values())
            self._relays.clear()
            self._started.clear()
        for relay in relays:
            relay.stop(timeout)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._relays.clear()
        self._started.clear()


LAG_METRIC = "telegraphy_outbox_lag_seconds"


def outbox_lag_gauge(lag: Callable[[], float], registry: Any = None) -> bool:
    """Report `lag()` as the Prometheus gauge telegraphy_outbox_lag_seconds, read at each
    scrape, in `registry` (default: prometheus_client's); False when prometheus_client is not
    installed."""
    try:
        from prometheus_client import REGISTRY, Gauge
    except ImportError:
        return False
    try:
        gauge = Gauge(
            LAG_METRIC,
            "Seconds the oldest undelivered outbox event has waited",
            registry=REGISTRY if registry is None else registry,
        )
    except ValueError:  # already registered, by another app of this process
        return True
    gauge.set_function(lag)
    return True
