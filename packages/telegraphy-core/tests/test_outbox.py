"""The outbox relay against a store kept in a list and a transport that records or refuses:
order, leases, refusals, failures, the background thread, settings and the lag gauge."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from prometheus_client import CollectorRegistry

from telegraphy.core import (
    ConfigurationError,
    Envelope,
    OutboxRow,
    OutboxSettings,
    RejectedError,
    Relay,
    TransportError,
    outbox_lag_gauge,
)


def envelope(n: int) -> Envelope:
    return {
        "name": "shop.Order",
        "meta": {"event_type": "create", "timestamp": "2025-01-01T00:00:00Z", "id": f"e{n}"},
        "data": {"n": n},
    }


class ListStore:
    """Rows in a list; one live lease at a time, as the adapters' stores keep it."""

    def __init__(self, count: int) -> None:
        self.rows = [OutboxRow(n, envelope(n)) for n in range(count)]
        self.done: dict[int, str] = {}
        self.leased: set[int] = set()
        self.pruned: list[float] = []

    def claim(self, limit: int, lease: float) -> list[OutboxRow]:
        if self.leased:
            return []
        taken = [row for row in self.rows if row.id not in self.done][:limit]
        self.leased = {row.id for row in taken}
        return taken

    def settle(self, rows: Sequence[OutboxRow], error: str = "") -> None:
        for row in rows:
            self.done[row.id] = error
            self.leased.discard(row.id)

    def release(self, rows: Sequence[OutboxRow]) -> None:
        self.leased -= {row.id for row in rows}

    def lag(self) -> float | None:
        return 1.0 if len(self.done) < len(self.rows) else None

    def prune(self, older_than: float) -> int:
        self.pruned.append(older_than)
        return 0


class Gateway:
    """A transport: records batches; `refuse` maps an event's n to the error it raises."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.refuse: dict[int, RejectedError] = {}
        self.failures = 0
        """How many deliveries fail from now on (a gateway that is down)."""
        self.delivered = threading.Event()

    def check(self, envelope: Envelope) -> None:
        pass

    def deliver(self, batch: Sequence[Envelope]) -> None:
        if self.failures:
            self.failures -= 1
            raise TransportError("connection refused")
        numbers = [e["data"]["n"] for e in batch]
        for n in numbers:
            if n in self.refuse:
                raise self.refuse[n]
        self.batches.append(numbers)
        self.delivered.set()

    def close(self) -> None:
        pass


def relay(store: ListStore, gateway: Gateway, **settings: object) -> Relay:
    return Relay(store, gateway, OutboxSettings(enabled=True, **settings), batch_size=4)  # type: ignore[arg-type]


def test_rows_leave_in_order_in_batches_and_are_settled() -> None:
    store, gateway = ListStore(10), Gateway()
    assert relay(store, gateway).drain() == 10
    assert gateway.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert store.done == dict.fromkeys(range(10), "")


def test_a_refused_row_is_settled_with_its_error_and_the_others_still_go() -> None:
    store, gateway = ListStore(6), Gateway()
    gateway.refuse[2] = RejectedError("too large", index=2)
    r = relay(store, gateway)
    assert r.drain() == 6
    assert store.done[2] == "too large"
    assert [n for batch in gateway.batches for n in batch] == [0, 1, 3, 4, 5]
    assert (r.stats.delivered, r.stats.rejected) == (5, 1)


def test_without_an_index_the_batch_is_halved_until_the_refused_row_is_alone() -> None:
    store, gateway = ListStore(4), Gateway()
    gateway.refuse[1] = RejectedError("invalid")
    r = relay(store, gateway)
    while len(store.done) < 4:
        r.deliver_once()
    assert store.done[1] == "invalid"
    assert [n for batch in gateway.batches for n in batch] == [0, 2, 3]


def test_a_gateway_that_is_down_leaves_the_rows_waiting_and_released() -> None:
    store, gateway = ListStore(3), Gateway()
    gateway.failures = 1
    with pytest.raises(TransportError):
        relay(store, gateway).deliver_once()
    assert store.done == {} and store.leased == set()


def test_run_until_empty_retries_through_failures() -> None:
    store, gateway = ListStore(3), Gateway()
    gateway.failures = 3
    r = Relay(store, gateway, OutboxSettings(enabled=True), batch_size=4, retry_max_delay=0.01)
    r.run(until_empty=True)
    assert store.done == dict.fromkeys(range(3), "")
    assert r.stats.retries == 3


def test_the_thread_delivers_when_woken_and_stops() -> None:
    store, gateway = ListStore(0), Gateway()
    r = relay(store, gateway, poll_interval=3600)
    r.start()
    assert r.running
    store.rows.append(OutboxRow(0, envelope(0)))
    r.wake()
    assert gateway.delivered.wait(5)
    r.stop()
    assert not r.running and store.done == {0: ""}


def test_pruning_runs_at_most_once_a_minute_with_the_keep_setting() -> None:
    now = [0.0]
    store = ListStore(0)
    r = Relay(store, Gateway(), OutboxSettings(enabled=True, keep=30), clock=lambda: now[0])
    r.prune_if_due()
    now[0] = 61
    r.prune_if_due()
    r.prune_if_due()
    assert store.pruned == [30]
    kept = Relay(store, Gateway(), OutboxSettings(enabled=True, keep=None), clock=lambda: 1e9)
    kept.prune_if_due()
    assert store.pruned == [30]


def test_settings_come_from_the_adapters_keys_and_say_what_to_fix() -> None:
    settings = OutboxSettings.from_mapping({"OUTBOX": True, "OUTBOX_LEASE": 5, "OTHER": 1})
    assert settings == OutboxSettings(enabled=True, lease=5)
    with pytest.raises(ConfigurationError, match=r"^TELEGRAPHY_OUTBOX_LEASE must be a positive"):
        OutboxSettings.from_mapping({"OUTBOX_LEASE": 0}, "TELEGRAPHY_")
    with pytest.raises(ConfigurationError, match="OUTBOX must be True or False, got 'yes'"):
        OutboxSettings.from_mapping({"OUTBOX": "yes"})
    with pytest.raises(ConfigurationError, match=r"None keeps delivered rows"):
        OutboxSettings.from_mapping({"OUTBOX_KEEP": -1})


def test_the_lag_gauge_reads_the_lag_at_each_scrape() -> None:
    registry = CollectorRegistry()
    lag = [0.0]
    assert outbox_lag_gauge(lambda: lag[0], registry)
    lag[0] = 12.5
    assert registry.get_sample_value("telegraphy_outbox_lag_seconds") == 12.5
    assert outbox_lag_gauge(lambda: 0.0, registry)  # a second app of the process: already there
