"""The engine contract, run against every engine: positions, bounded history, recovery and
its gaps, idempotent publication, client records and the spent-token ledger; and, for the
SQLite engine, all of it read back by a second engine opened on the same file (a restart)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task

from telegraphy.core import Grants
from telegraphy.gateway.engines import MemoryEngine, SqliteEngine
from telegraphy.gateway.engines.base import (
    ClientRecord,
    Draft,
    Entry,
    HistoryPolicy,
    Position,
    Publisher,
    Since,
)
from telegraphy.gateway.engines.redis import RedisAddress, RedisEngine
from telegraphy.gateway.engines.sqlite import EngineFailed
from telegraphy.gateway.router.uri import Pattern

TOPIC, OTHER = "app.orders", "app.other"
DEDUPE_WINDOW = 60.0


class Clock:
    """The engines' clock, moved by the test."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Policy = Callable[[str], HistoryPolicy]


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await task.deferLater(reactor, 0.01)


class Engines:
    """Opens engines of one kind (on one file, for SQLite) and stops them at the end."""

    def __init__(self, kind: str, path: Path, redis: Any = None) -> None:
        self.kind = kind
        self.path = path
        self.redis = redis
        self.prefix = f"test-{uuid.uuid4().hex[:12]}:"

        self.clock = Clock()
        self.opened: list[MemoryEngine] = []
        self.stopped: list[MemoryEngine] = []

    async def open(self, size: int = 100, ttl: float = 300.0) -> Any:
        def policy(topic: str) -> HistoryPolicy:
            return HistoryPolicy(size, ttl)

        engine: Any
        if self.kind == "memory":
            engine = MemoryEngine(policy, DEDUPE_WINDOW, self.clock)
        elif self.kind == "sqlite":
            engine = SqliteEngine(self.path, policy, DEDUPE_WINDOW, self.clock)
        else:
            address = RedisAddress.parse(self.redis.url)
            engine = RedisEngine(address, self.prefix, policy, DEDUPE_WINDOW, self.clock)
        self.opened.append(engine)
        self.delivered: list[Entry] = []
        engine.streams.bind(self.delivered.append)
        engine.start()
        await until(lambda: engine.problem() is None, f"{self.kind} engine ready")
        return engine

    async def stop(self) -> None:
        for engine in self.opened:
            if engine not in self.stopped:
                await engine.stop()

    async def restart(self, engine: MemoryEngine, **policy: Any) -> MemoryEngine:
        """Stop `engine` (everything written) and open another on the same file."""
        await engine.stop()
        self.stopped.append(engine)
        return await self.open(**policy)


@pytest_twisted.async_yield_fixture(params=["memory", "sqlite", "redis"])
async def engines(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engines]:
    redis = request.getfixturevalue("redis_server") if request.param == "redis" else None
    made = Engines(request.param, tmp_path / "engine.sqlite3", redis)
    yield made
    await made.stop()


async def publish(engine: MemoryEngine, *values: Any, topic: str = TOPIC) -> list[Entry]:
    entries = []
    for value in values:
        accepted = await engine.streams.publish(Draft(topic, [value]))
        assert not accepted.duplicate
        entries.append(accepted.entry)
    return entries


def args(entries: Any) -> list[Any]:
    return [entry.draft.args[0] for entry in entries]


async def recover(engine: MemoryEngine, since: Since, limit: int = 100) -> Any:
    return await engine.streams.recover(TOPIC, since, limit)


# -- positions and history ------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_offsets_grow_by_one_per_topic_from_one_in_a_stable_epoch(engines: Engines) -> None:
    engine = await engines.open()
    assert engine.streams.top(TOPIC) is None
    first = await publish(engine, "a", "b", "c")
    other = await publish(engine, "x", topic=OTHER)

    assert [e.offset for e in first] == [1, 2, 3] and [e.offset for e in other] == [1]
    assert len({e.epoch for e in first}) == 1
    assert engine.streams.top(TOPIC) == Position(3, first[0].epoch)
    # Delivered once each, in offset order, after they were kept.
    assert [(e.topic, e.offset) for e in engines.delivered] == [
        (TOPIC, 1),
        (TOPIC, 2),
        (TOPIC, 3),
        (OTHER, 1),
    ]
    assert await engine.streams.topics(Pattern("app.", "prefix")) in (
        [TOPIC, OTHER],
        [OTHER, TOPIC],
    )


@pytest_twisted.ensureDeferred
async def test_history_keeps_the_newest_size_publications(engines: Engines) -> None:
    engine = await engines.open(size=3)
    await publish(engine, 1, 2, 3, 4, 5)

    kept = await engine.streams.history(TOPIC, 10)

    assert [e.offset for e in kept] == [3, 4, 5] and args(kept) == [3, 4, 5]
    assert args(await engine.streams.history(TOPIC, 2)) == [4, 5]
    assert await engine.streams.history("app.never", 10) == []


@pytest_twisted.ensureDeferred
async def test_history_drops_publications_older_than_ttl(engines: Engines) -> None:
    engine = await engines.open(ttl=10)
    await publish(engine, "old")
    engines.clock.now += 6
    await publish(engine, "new")
    engines.clock.now += 6  # "old" is 12 s old, "new" 6 s

    assert args(await engine.streams.history(TOPIC, 10)) == ["new"]
    engine.expire()
    assert args(await engine.streams.history(TOPIC, 10)) == ["new"]
    assert engine.streams.top(TOPIC) is not None and engine.streams.top(TOPIC).offset == 2  # type: ignore[union-attr]


# -- recovery -------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_recover_after_a_position_gives_what_followed_in_order(engines: Engines) -> None:
    engine = await engines.open()
    entries = await publish(engine, 1, 2, 3, 4, 5)
    epoch = entries[0].epoch

    after_two = await recover(engine, Since(Position(2, epoch)))
    from_start = await recover(engine, Since(Position(0, "any-epoch")))
    at_top = await recover(engine, Since(Position(5, epoch)))

    assert (args(after_two.entries), after_two.gap) == ([3, 4, 5], None)
    assert after_two.position == Position(5, epoch)
    assert args(from_start.entries) == [1, 2, 3, 4, 5]
    assert (at_top.entries, at_top.gap) == ((), None)


@pytest_twisted.ensureDeferred
async def test_recover_since_a_time(engines: Engines) -> None:
    engine = await engines.open()
    start = engines.clock.now
    await publish(engine, 1)
    engines.clock.now += 5
    await publish(engine, 2, 3)

    found = await recover(engine, Since(time=start + 1))

    assert (args(found.entries), found.gap) == ([2, 3], None)
    assert args((await recover(engine, Since(time=start))).entries) == [1, 2, 3]


@pytest_twisted.ensureDeferred
async def test_what_cannot_be_recovered_is_a_gap_with_its_reason(engines: Engines) -> None:
    engine = await engines.open(size=3, ttl=10)
    start = engines.clock.now
    entries = await publish(engine, 1, 2, 3, 4, 5)
    epoch = entries[0].epoch

    cases = {
        "too_old": Since(Position(1, epoch)),  # 2 was dropped (size 3)
        "too_many": Since(Position(3, epoch)),  # 2 missed, limit 1
        "epoch_changed": Since(Position(4, "another-epoch")),
        "invalid_position": Since(Position(9, epoch)),
    }
    gaps = {name: await recover(engine, since, limit=1) for name, since in cases.items()}

    assert {name: found.gap for name, found in gaps.items()} == {name: name for name in cases}
    assert all(found.entries == () for found in gaps.values())
    engines.clock.now += 20  # everything older than the ttl: a time before it is too old
    assert (await recover(engine, Since(time=start))).gap == "too_old"


@pytest_twisted.ensureDeferred
async def test_a_topic_without_a_stream_recovers_nothing(engines: Engines) -> None:
    engine = await engines.open()
    fresh = await recover(engine, Since(Position(0, "")))
    lost = await recover(engine, Since(Position(7, "gone")))
    assert (fresh.entries, fresh.gap) == ((), None)
    assert (lost.entries, lost.gap) == ((), "epoch_changed")
    assert engine.streams.top(TOPIC) is None  # recovering creates no stream


# -- idempotent publication -----------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_an_event_id_is_published_once_within_the_dedupe_window(engines: Engines) -> None:
    engine = await engines.open()
    draft = Draft(TOPIC, ["paid"], event_id="order-1")

    # The second arrives while the first may still be being written.
    first, second = engine.streams.publish(draft), engine.streams.publish(draft)
    first_accepted, second_accepted = await first, await second
    third = await engine.streams.publish(Draft(TOPIC, ["other"], event_id="order-2"))

    assert (first_accepted.duplicate, second_accepted.duplicate) == (False, True)
    # The duplicate names where the first was kept (ids are remembered without payloads).
    assert second_accepted.entry.position == first_accepted.entry.position
    assert second_accepted.entry.draft.event_id == "order-1"
    assert third.entry.offset == 2
    assert [e.draft.event_id for e in engines.delivered] == ["order-1", "order-2"]
    engines.clock.now += DEDUPE_WINDOW + 1
    engine.expire()
    again = await engine.streams.publish(draft)
    assert (again.duplicate, again.entry.offset) == (False, 3)


# -- client records and tokens --------------------------------------------------------------


def a_record(expires_at: int) -> ClientRecord:
    return ClientRecord(
        "client-1",
        "42",
        Grants(subscribe_events=("shop.Order",), publish_channels=("chat",)),
        expires_at,
        subscriptions=[Pattern(TOPIC), Pattern("app.", "prefix")],
        persistent={Pattern(TOPIC): {TOPIC: Position(3, "e1")}},
        left_at=123.5,
    )


@pytest_twisted.ensureDeferred
async def test_client_records_are_kept_until_they_expire(engines: Engines) -> None:
    engine = await engines.open()
    now = engines.clock.now
    record = a_record(int(now) + 10)
    engine.clients.put(record)

    assert await engine.clients.get("client-1", now) == record
    assert await engine.clients.get("client-2", now) is None
    assert await engine.clients.get("client-1", now + 10) is None
    if engines.kind == "redis":  # Redis forgets it at its expiry, by its own clock
        ttl = int(engines.redis.command("PTTL", f"{engines.prefix}c:client-1")[1:])
        assert 0 < ttl <= 10_000
        return
    engines.clock.now += 11
    engine.expire()
    assert await engine.clients.get("client-1", now) is None  # forgotten, not only past expiry


@pytest_twisted.ensureDeferred
async def test_a_token_is_spent_once(engines: Engines) -> None:
    engine = await engines.open()
    expires = engines.clock.now + 30
    assert await engine.tokens.spend("token-1", expires) is True
    assert await engine.tokens.spend("token-1", expires) is False
    assert await engine.tokens.spend("token-2", expires) is True
    engines.clock.now += 31
    assert await engine.tokens.spend("token-1", engines.clock.now + 30) is True  # expired


# -- restart (SQLite) -----------------------------------------------------------------------


@pytest_twisted.async_yield_fixture
async def sqlite_engines(tmp_path: Path) -> AsyncIterator[Engines]:
    made = Engines("sqlite", tmp_path / "engine.sqlite3")
    yield made
    await made.stop()


@pytest_twisted.ensureDeferred
async def test_a_restart_keeps_streams_history_records_and_tokens(
    sqlite_engines: Engines,
) -> None:
    engines = sqlite_engines
    engine = await engines.open(size=3)
    publisher = Publisher(7, "backend-1", "backend", "client-9", disclose=True)
    entries = await publish(engine, 1, 2, 3, 4)
    await engine.streams.publish(Draft(OTHER, [b"\x00bytes"], {"k": {"n": 1}}, publisher))
    await engine.streams.publish(Draft(TOPIC, [5], event_id="order-5"))
    record = a_record(int(engines.clock.now) + 100)
    engine.clients.put(record)
    await engine.tokens.spend("token-1", engines.clock.now + 100)
    history = await engine.streams.history(TOPIC, 10)
    tops = (engine.streams.top(TOPIC), engine.streams.top(OTHER))

    again = await engines.restart(engine, size=3)

    assert (again.streams.top(TOPIC), again.streams.top(OTHER)) == tops
    assert await again.streams.history(TOPIC, 10) == history
    other = (await again.streams.history(OTHER, 1))[0]
    assert (other.draft.args, other.draft.kwargs, other.draft.publisher) == (
        [b"\x00bytes"],
        {"k": {"n": 1}},
        publisher,
    )
    found = await again.streams.recover(TOPIC, Since(Position(3, entries[0].epoch)), 10)
    assert (args(found.entries), found.gap) == ([4, 5], None)
    assert await again.clients.get("client-1", engines.clock.now) == record
    assert await again.tokens.spend("token-1", engines.clock.now + 100) is False
    duplicate = await again.streams.publish(Draft(TOPIC, [5], event_id="order-5"))
    assert (duplicate.duplicate, duplicate.entry.offset) == (True, 5)
    # Publishing continues in the same stream, epoch and offsets.
    following = await publish(again, 6)
    assert following[0].position == Position(6, entries[0].epoch)
    assert engines.delivered == following


@pytest_twisted.ensureDeferred
async def test_a_time_before_history_trimmed_before_a_restart_is_still_a_gap(
    sqlite_engines: Engines,
) -> None:
    engines = sqlite_engines
    engine = await engines.open(size=3)
    start = engines.clock.now
    for n in range(6):  # offsets 1-3 are trimmed by size
        engines.clock.now = start + n
        await publish(engine, n)
    assert (await recover(engine, Since(time=start))).gap == "too_old"

    again = await engines.restart(engine, size=3)

    found = await recover(again, Since(time=start))
    assert (found.entries, found.gap) == ((), "too_old")  # never 4-6 as if they were all
    assert args((await recover(again, Since(time=start + 3))).entries) == [3, 4, 5]


@pytest_twisted.ensureDeferred
async def test_a_time_before_the_memory_engine_started_is_an_epoch_change() -> None:
    clock = Clock()
    engine = MemoryEngine(lambda topic: HistoryPolicy(10, 300.0), DEDUPE_WINDOW, clock)
    engine.streams.bind(lambda entry: None)
    clock.now += 10
    await publish(engine, 1)
    before_start = await recover(engine, Since(time=clock.now - 20))
    assert (before_start.entries, before_start.gap) == ((), "epoch_changed")
    assert args((await recover(engine, Since(time=clock.now - 5))).entries) == [1]


@pytest_twisted.ensureDeferred
async def test_a_sqlite_engine_that_cannot_write_refuses_every_publication(
    sqlite_engines: Engines,
) -> None:
    engine = await sqlite_engines.open()
    await publish(engine, "kept")
    assert engine.problem() is None
    with closing(sqlite3.connect(sqlite_engines.path)) as other:
        other.execute("DROP TABLE events")  # as a disk that fails: every write fails from now

    failed = [engine.streams.publish(Draft(TOPIC, [value])) for value in ("lost", "later")]
    errors = [await defer.DeferredList([d], consumeErrors=True) for d in failed]

    assert [type(result[0][1].value) for result in errors] == [EngineFailed, EngineFailed]
    assert args(sqlite_engines.delivered) == ["kept"]  # nothing unkept was delivered
    assert args(await engine.streams.history(TOPIC, 10)) == ["kept"]
    with pytest.raises(EngineFailed, match="failed earlier"):
        await engine.streams.publish(Draft(TOPIC, ["after"]))
    assert "cannot write" in (engine.problem() or "")  # what /ready reports
