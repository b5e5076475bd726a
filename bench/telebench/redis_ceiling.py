"""The Redis engine's own ceiling: publications per second through one Redis server, with no
subscriber, measured in a process of its own (run by telebench/scale.py):

    python redis_ceiling.py REDIS_URL REDIS_PID COUNT

prints one JSON object: publications/s, and the CPU time per publication of this process (the
gateway's side of the engine) and of redis-server.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

from twisted.internet import defer, reactor, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telebench.procstat import tree_cpu_seconds
from telegraphy.gateway.engines.base import Draft, HistoryPolicy
from telegraphy.gateway.engines.redis import RedisAddress, RedisEngine

WINDOW = 512
"""Publications waiting for Redis at a time (a busy gateway's ingress and publishers)."""


async def measure(url: str, redis_pid: int, count: int) -> dict[str, float]:
    engine = RedisEngine(
        RedisAddress.parse(url),
        f"ceiling-{uuid.uuid4().hex[:8]}:",
        lambda topic: HistoryPolicy(1000, 300.0),
        600.0,
    )
    delivered = 0

    def deliver(entry: object) -> None:
        nonlocal delivered
        delivered += 1

    engine.streams.bind(deliver)  # type: ignore[arg-type]
    engine.start()
    while engine.problem() is not None:
        await task.deferLater(reactor, 0.05)
    payload = {"data": "x" * 200}
    ours, theirs = time.process_time(), tree_cpu_seconds(redis_pid)
    started = time.perf_counter()
    pending: list[defer.Deferred[object]] = []
    for n in range(count):
        draft = Draft(f"bench.topic.{n % 10}", [payload], event_id=f"event-{n}")
        pending.append(engine.streams.publish(draft))  # type: ignore[arg-type]
        if len(pending) >= WINDOW:
            await defer.gatherResults(pending)
            pending = []
    await defer.gatherResults(pending)
    elapsed = time.perf_counter() - started
    ours, theirs = time.process_time() - ours, tree_cpu_seconds(redis_pid) - theirs
    await engine.stop()
    return {
        "publications_per_s": count / elapsed,
        "gateway_cpu_us_per_publication": ours * 1e6 / count,
        "redis_cpu_us_per_publication": theirs * 1e6 / count,
        "delivered": delivered,
    }


def main() -> None:
    url, pid, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    result: dict[str, float] = {}

    async def run() -> None:
        result.update(await measure(url, pid, count))

    done = defer.ensureDeferred(run())
    done.addErrback(lambda failure: print(failure.getTraceback(), file=sys.stderr))
    done.addBoth(lambda _: reactor.stop())
    reactor.run()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
