"""Measure telegraphy-core's publisher against a real gateway; results in publisher.json.

Each transport gets a fresh gateway (ingress on, no subscribers: what is measured is the
path from `send()` to the gateway accepting the batch).
"""

from __future__ import annotations

import json
import logging
import platform
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telebench.errors import BenchError
from telebench.percentiles import percentiles_us
from telebench.router_configs import TELEGRAPHY_PER_ADDRESS_LIMITS
from telebench.routers import RunningRouter, TelegraphySpec
from telebench.settings import HOST, REALM

from telegraphy.core import Envelope, Publisher, Settings

SECRET = "bench-ingress-secret-not-for-production"
SEND_POINTS = {"p50_us": 0.50, "p99_us": 0.99, "p999_us": 0.999}
START_TIMEOUT_S = 30.0
FLUSH_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class PublisherBenchSettings:
    events: dict[str, int]
    """Events sent per transport."""
    send_cost_events: int
    """Calls of send() timed one by one."""


FULL = PublisherBenchSettings(events={"http": 100_000, "xmlrpc": 30_000}, send_cost_events=100_000)
QUICK = PublisherBenchSettings(events={"http": 10_000, "xmlrpc": 3_000}, send_cost_events=10_000)


@dataclass(frozen=True)
class IngressGatewaySpec:
    """The gateway with its ingress turned on (a `secret`), for `RunningRouter`."""

    gateway: Path
    name: str = "telegraphy"

    def version(self) -> str:
        return TelegraphySpec(self.gateway).version()

    def command(self, workdir: Path, port: int) -> list[str]:
        config = workdir / "telegraphy.toml"
        config.write_text(
            f'realm = "{REALM}"\nsecret = "{SECRET}"\n[limits]\n{TELEGRAPHY_PER_ADDRESS_LIMITS}'
        )
        return [
            *TelegraphySpec(self.gateway).command(workdir, port)[:5],
            "--config",
            str(config),
            "--log-level",
            "warn",
        ]


def envelope(n: int) -> Envelope:
    """About 200 bytes as JSON, like a model event."""
    return {
        "name": "bench.Order",
        "meta": {
            "event_type": "update",
            "verbose_name": "Order",
            "timestamp": "2025-01-01T00:00:00.000000Z",
            "id": f"bench-{n:012d}",
        },
        "data": {"id": n, "status": "shipped", "total": "1234.50", "customer": "c-42"},
    }


def delivery(spec: IngressGatewaySpec, transport: str, events: int) -> dict[str, Any]:
    """Send `events` as fast as the caller can, until the gateway accepted them all."""
    with RunningRouter(spec, START_TIMEOUT_S) as router:
        settings = Settings(
            secret=SECRET,
            gateway_url=f"http://{HOST}:{router.port}",
            transport=transport,
            queue_size=events,
        )
        publisher = Publisher(settings)
        cpu_before = router.cpu_seconds()
        started = time.perf_counter()
        costs = [_timed_send(publisher, envelope(n)) for n in range(events)]
        if not publisher.flush(FLUSH_TIMEOUT_S):
            raise BenchError(f"{transport}: not delivered in {FLUSH_TIMEOUT_S}s")
        elapsed = time.perf_counter() - started
        gateway_cpu = (router.cpu_seconds() - cpu_before) / elapsed
        stats = publisher.stats
        publisher.close()
    if stats.delivered != events or stats.rejected or stats.dropped:
        raise BenchError(f"{transport}: lost events: {stats}")
    return {
        "events": events,
        "batch_size": settings.batch_size,
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(events / elapsed),
        "retries": stats.retries,
        "gateway_cpu": round(gateway_cpu, 2),
        "send_us_while_delivering": percentiles_us(costs, SEND_POINTS),
    }


def send_cost(events: int) -> dict[str, Any]:
    """send() alone: the worker waits on a gateway that never answers, competing for nothing."""
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen()
        url = f"http://{HOST}:{silent.getsockname()[1]}"
        publisher = Publisher(Settings(secret=SECRET, gateway_url=url, queue_size=events))
        costs = [_timed_send(publisher, envelope(n)) for n in range(events)]
        # These events are meant to be lost: keep the publisher's ERROR about it out of the run.
        logging.getLogger("telegraphy.core").setLevel(logging.CRITICAL)
        publisher.close(timeout=0)
        logging.getLogger("telegraphy.core").setLevel(logging.NOTSET)
    return {"events": events, **percentiles_us(costs, SEND_POINTS)}


def _timed_send(publisher: Publisher, event: Envelope) -> int:
    started = time.perf_counter_ns()
    publisher.send(event)
    return time.perf_counter_ns() - started


def run(gateway: Path, output_dir: Path, quick: bool) -> dict[str, Any]:
    """Measure, write `output_dir/publisher.json`, and return the results."""
    s = QUICK if quick else FULL
    spec = IngressGatewaySpec(gateway)
    details: dict[str, Any] = {}
    for transport, events in s.events.items():
        print(f"bench: publisher: {transport}: delivering {events} events", flush=True)
        details[transport] = delivery(spec, transport, events)
    print("bench: publisher: send() cost, worker idle", flush=True)
    details["send"] = send_cost(s.send_cost_events)
    results = {
        "quick": quick,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "gateway_version": spec.version(),
        "figures": {
            "http_events_per_s": details["http"]["events_per_s"],
            "xmlrpc_events_per_s": details["xmlrpc"]["events_per_s"],
            "send_p50_us": details["send"]["p50_us"],
            "send_p99_us": details["send"]["p99_us"],
            "send_p99_us_while_delivering": details["http"]["send_us_while_delivering"]["p99_us"],
        },
        "details": details,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "publisher.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: publisher: {results['figures']}", flush=True)
    print(f"bench: wrote {path}", flush=True)
    return results
