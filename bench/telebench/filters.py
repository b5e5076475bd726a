"""The filters group: what subscription filters cost the broker's fan-out, measured in process.

1000 sessions subscribe to one topic with no filter, or with 1, 10, 100 or 1000 distinct
filters spread evenly over them. Every filter lets every event through, so each variant
delivers the same events (1000 per publication) and the difference is the filters' own cost:
one evaluation per distinct filter per publication, and one EVENT serialized per distinct
filter and codec (equal filters share one subscription, distinct ones cannot share a frame:
the subscription id is in it). The sessions sit on transports that count the frames written
to them: no sockets, so the figure is the router's own work per publication (matching,
filters, serialization, writes). Results in results/filters.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from telegraphy.gateway import GatewayConfig
from telegraphy.gateway.auth import Accept
from telegraphy.gateway.engines import MemoryEngine
from telegraphy.gateway.router.realm import Realm
from telegraphy.gateway.session import Session
from telegraphy.gateway.wire import CODECS, Codec

SUBSCRIBERS = 1000
DISTINCT = (None, 1, 10, 100, 1000)  # None: no filter
TOPIC = "bench.filters"
JSON = CODECS["wamp.2.json"]


class Counter:
    """A transport that counts the frames written to it."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.frames = 0

    def send_frame(self, frame: bytes) -> None:
        self.frames += 1

    def close(self, code: int, reason: str) -> None:
        pass

    def details(self) -> dict[str, Any]:
        return {"type": "counter"}


def _receive(session: Session, message: list[Any]) -> None:
    for parsed, raw in JSON.decode(json.dumps(message).encode(), False):
        session.on_message(parsed, raw)


def _joined(realm: Realm) -> tuple[Session, Counter]:
    transport = Counter(JSON)
    session = Session(transport, realm)
    _receive(session, [1, "telegraphy", {"roles": {"subscriber": {}, "publisher": {}}}])
    session.permissions = realm.permissions_for(Accept("bench", "backend", "wampcra"))
    return session, transport


def _event(number: int) -> dict[str, Any]:
    meta = {"event_type": "update", "timestamp": "2026-01-01T00:00:00Z", "id": str(number)}
    return {"name": "bench.Order", "meta": meta, "data": {"id": number, "total": 100 + number}}


def measure(distinct: int | None, publications: int) -> dict[str, Any]:
    config = GatewayConfig()
    realm = Realm(config, MemoryEngine(config.history.policy, config.history.dedupe_window))
    publisher, _ = _joined(realm)
    subscribers = [_joined(realm) for _ in range(SUBSCRIBERS)]
    for i, (session, _) in enumerate(subscribers):
        # Distinct filters that all let every event through (total is never below 0).
        options = {} if distinct is None else {"filter": {"total__gte": -(i % distinct)}}
        _receive(session, [32, 1, options, TOPIC])
    for _, transport in subscribers:
        transport.frames = 0  # WELCOME and SUBSCRIBED
    before = realm.broker.filter_evaluations
    started = time.perf_counter()
    for n in range(publications):
        _receive(publisher, [16, n + 2, {}, TOPIC, [_event(n)]])
    elapsed = time.perf_counter() - started
    delivered = sum(t.frames for _, t in subscribers)
    if delivered != publications * SUBSCRIBERS:
        raise RuntimeError(f"filters: {delivered} events delivered, expected every one")
    return {
        "distinct_filters": distinct or 0,
        "delivered_events_per_s": delivered / elapsed,
        "publications_per_s": publications / elapsed,
        "filter_evaluations_per_publication": (realm.broker.filter_evaluations - before)
        / publications,
    }


def run(output_dir: Path, quick: bool = False) -> dict[str, Any]:
    publications, repeats = (20, 1) if quick else (200, 3)
    measure(None, 5)  # warm-up: the first publications pay for what later ones reuse
    variants = []
    for distinct in DISTINCT:
        runs = [measure(distinct, publications) for _ in range(repeats)]
        best = max(runs, key=lambda r: r["delivered_events_per_s"])
        best["median_delivered_events_per_s"] = statistics.median(
            r["delivered_events_per_s"] for r in runs
        )
        label = "no filter" if distinct is None else f"{distinct} distinct filters"
        print(f"bench: filters: {label}: {best['delivered_events_per_s']:,.0f} events/s")
        variants.append(best)
    results = {
        "subscribers": SUBSCRIBERS,
        "publications": publications,
        "repeats": repeats,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "variants": variants,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "filters.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: wrote {path}", flush=True)
    return results
