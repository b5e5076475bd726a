"""The engines' Presence, in process: joins and leaves told once with the count, a leave from a
process that does not hold the member changes nothing, and (Redis, a real server) a process
that falls silent loses its members to another's heartbeat, then joins them again when it
beats once more."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
from redis_server import RedisServer
from test_engines import until

from telegraphy.gateway.engines.base import HistoryPolicy, Member, PresenceChange
from telegraphy.gateway.engines.presence import MemoryPresence
from telegraphy.gateway.engines.redis import RedisAddress, RedisEngine

ROOM = "telegraphy.channel.chat.room-1"
ANN = Member("c-ann", "ann", {"name": "Ann"})
BOB = Member("c-bob", None)


def recorded(presence: Any) -> list[tuple[str, str | None, int, bool]]:
    changes: list[tuple[str, str | None, int, bool]] = []

    def changed(change: PresenceChange) -> None:
        changes.append((change.kind, change.member.user, change.count, change.mine))

    presence.bind(changed)
    return changes


@pytest_twisted.ensureDeferred
async def test_the_memory_presence_tells_each_change_once_with_the_count() -> None:
    presence = MemoryPresence()
    changes = recorded(presence)
    presence.join(ROOM, ANN)
    presence.join(ROOM, BOB)
    presence.join(ROOM, ANN)  # present already: no change
    assert await presence.members(ROOM) == [ANN, BOB]
    presence.leave(ROOM, "c-ann")
    presence.leave(ROOM, "c-ann")
    presence.leave(ROOM, "c-bob")
    assert changes == [
        ("join", "ann", 1, True),
        ("join", None, 2, True),
        ("leave", "ann", 1, True),
        ("leave", None, 0, True),
    ]
    assert await presence.members(ROOM) == []


def redis_engine(redis: RedisServer, prefix: str, timeout: float) -> RedisEngine:
    engine = RedisEngine(
        RedisAddress.parse(redis.url),
        prefix,
        lambda topic: HistoryPolicy(10, 60.0),
        60.0,
        presence_timeout=timeout,
    )
    engine.streams.bind(lambda entry: None)
    return engine


@pytest_twisted.async_yield_fixture
async def pair(redis_server: RedisServer) -> AsyncIterator[tuple[RedisEngine, RedisEngine]]:
    prefix = f"presence-{uuid.uuid4().hex[:8]}:"
    engines = (redis_engine(redis_server, prefix, 0.9), redis_engine(redis_server, prefix, 0.9))
    for engine in engines:
        engine.start()
    await until(lambda: all(e.problem() is None for e in engines), "both engines ready")
    yield engines
    for engine in engines:
        await engine.stop()


@pytest_twisted.ensureDeferred
async def test_redis_presence_is_shared_and_a_silent_process_loses_its_members(
    pair: tuple[RedisEngine, RedisEngine],
) -> None:
    first, second = pair
    seen_first, seen_second = recorded(first.presence), recorded(second.presence)
    first.presence.join(ROOM, ANN)
    await until(lambda: len(seen_second) == 1, "the join heard by the other process")
    assert seen_first == [("join", "ann", 1, True)]
    assert seen_second == [("join", "ann", 1, False)]
    assert await second.presence.members(ROOM) == [ANN]

    # The member moves to the second process; the first's leave then changes nothing.
    second.presence.join(ROOM, ANN)
    first.presence.leave(ROOM, "c-ann")
    second.presence.join(ROOM, BOB)
    await until(lambda: len(seen_first) == 2, "bob's join")
    assert seen_first[1] == ("join", None, 2, False)

    # The second process falls silent: the first removes its members, and says so once.
    second.presence.stop()
    await until(lambda: len(seen_first) == 4, "the silent process's members leave")
    leaves = seen_first[2:]
    assert {(kind, user, mine) for kind, user, _, mine in leaves} == {
        ("leave", "ann", True),
        ("leave", None, True),
    }
    assert [count for *_, count, _ in leaves] == [1, 0]
    assert await first.presence.members(ROOM) == []
    # Back, it finds it was taken for dead and joins its members again.
    second.presence.start()
    await until(lambda: len(seen_first) == 6, "its members back")
    assert sorted(c[0] for c in seen_first[4:]) == ["join", "join"]
    assert sorted(m.client_id for m in await first.presence.members(ROOM)) == ["c-ann", "c-bob"]
