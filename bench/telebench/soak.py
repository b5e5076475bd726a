"""The soak group: many idle subscribed sessions held for a long time while a steady stream of
publications reaches them all, with the gateway's memory and delivery latency read over time.
Results in results/soak.json, charted in soak.png (chart_groups.py).

The sessions are the load generator's idle mode (they read and discard their EVENTs); the
stream is its fixed-rate fan-out mode on the same topic, whose own subscribers time every
event end to end (the percentiles over the whole run). Every `sample_s` the driver reads the
gateway's RSS and CPU time (its process, from /proc) and /metrics: the delivery latency histogram
(publication accepted to its frames sent, telegraphy_delivery_latency_seconds) gives the
latency of each interval, telegraphy_events_delivered_total the deliveries per second.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from . import loadgen, report
from .bootstrap import compile_loadgen
from .errors import BenchError
from .loadgen import Loadgen
from .routers import RunningRouter, TelegraphySpec
from .scale import RedisProcess
from .settings import HOST
from .storm import _raise_open_files_limit

SOAK_TOPIC = "bench.soak"
WORKERS_PHASE_S = 150.0  # the --workers 2 phase's stream


@dataclass(frozen=True)
class SoakSettings:
    sessions: int
    duration_s: float
    publish_rate: float  # publications per second, each to every session
    probe_subscribers: int  # the stream's own subscribers, which time every event
    sample_s: float
    payload_bytes: int = 200
    setup_timeout_s: float = 300.0


FULL_SOAK = SoakSettings(
    sessions=10_000, duration_s=600, publish_rate=5, probe_subscribers=100, sample_s=10
)
QUICK_SOAK = SoakSettings(
    sessions=1_000, duration_s=60, publish_rate=20, probe_subscribers=50, sample_s=5
)


@dataclass(frozen=True)
class Scrape:
    at: float
    delivered: float
    buckets: tuple[tuple[float, float], ...]  # (upper bound, cumulative count)
    sessions: float


def scrape(port: int) -> Scrape:
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    at = time.monotonic()
    delivered, sessions, buckets = 0.0, 0.0, []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "telegraphy_events_delivered_total":
                delivered = sample.value
            elif sample.name == "telegraphy_sessions":
                sessions += sample.value
            elif sample.name == "telegraphy_delivery_latency_seconds_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    return Scrape(at, delivered, tuple(sorted(buckets)), sessions)


def quantile(q: float, before: Scrape, after: Scrape) -> float | None:
    """The q-quantile of the latencies observed between two scrapes, in seconds, interpolated
    within its bucket as Prometheus' histogram_quantile does; None without observations."""
    counts = [(le, a - b) for (le, a), (_, b) in zip(after.buckets, before.buckets, strict=True)]
    if not counts or counts[-1][1] <= 0:
        return None
    rank = q * counts[-1][1]
    lower, below = 0.0, 0.0
    for le, cumulative in counts:
        if cumulative >= rank:
            if le == float("inf"):
                return lower
            share = (rank - below) / (cumulative - below) if cumulative > below else 1.0
            return lower + (le - lower) * share
        lower, below = le, cumulative
    return lower


def _sample(
    router: RunningRouter, before: Scrape, cpu_before: float, started: float
) -> tuple[Scrape, float, dict[str, Any]]:
    now = scrape(router.port)
    cpu = router.cpu_seconds()
    seconds = max(now.at - before.at, 1e-9)
    p50, p99 = quantile(0.5, before, now), quantile(0.99, before, now)
    return (
        now,
        cpu,
        {
            "t_s": round(now.at - started, 1),
            "rss_mib": round(router.rss_bytes() / 2**20, 1),
            "gateway_cpu_pct": round(100 * (cpu - cpu_before) / seconds, 1),
            "sessions": int(now.sessions),
            "deliveries_per_s": round((now.delivered - before.delivered) / seconds, 1),
            "latency_p50_ms": None if p50 is None else round(p50 * 1000, 3),
            "latency_p99_ms": None if p99 is None else round(p99 * 1000, 3),
        },
    )


class _Stream(threading.Thread):
    """The fixed-rate fan-out run, in a thread while the driver samples."""

    def __init__(self, gen: Loadgen, s: SoakSettings) -> None:
        super().__init__(daemon=True)
        self._gen, self._s = gen, s
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        s = self._s
        options = ["--topic", SOAK_TOPIC, "--subscribers", str(s.probe_subscribers),
                   "--rate", str(s.publish_rate), "--payload-bytes", str(s.payload_bytes),
                   "--warmup", "0", "--duration", str(s.duration_s),
                   "--setup-timeout", str(s.setup_timeout_s)]  # fmt: skip
        try:
            timeout = s.duration_s + s.setup_timeout_s + 60
            self.result = loadgen.run(self._gen, "fanout", options, timeout)
        except BaseException as error:  # reported by the driver's thread
            self.error = error


def _soak(router: RunningRouter, gen: Loadgen, s: SoakSettings) -> dict[str, Any]:
    started = time.monotonic()
    samples = []
    rss_start = router.rss_bytes()
    idle = ["--topic", SOAK_TOPIC, "--subscribers", str(s.sessions),
            "--setup-timeout", str(s.setup_timeout_s),
            "--hold-timeout", str(s.duration_s + s.setup_timeout_s + 60)]  # fmt: skip
    timeout = s.duration_s + 2 * s.setup_timeout_s + 120
    with loadgen.idle_connections(gen, idle, timeout) as ready:
        rss_idle = router.rss_bytes()
        print(f"bench: soak: {ready['connections']} sessions held; streaming", flush=True)
        stream = _Stream(gen, s)
        last, cpu = scrape(router.port), router.cpu_seconds()
        first, cpu_first = last, cpu
        stream.start()
        while stream.is_alive():
            stream.join(timeout=s.sample_s)  # the sampling period, not a synchronisation
            last, cpu, sample = _sample(router, last, cpu, started)
            samples.append(sample)
            print(f"bench: soak: {sample}", flush=True)
        if stream.error is not None or stream.result is None:
            raise BenchError(f"the stream failed: {stream.error}")
    delivered = last.delivered - first.delivered
    cpu_per_delivery = (cpu - cpu_first) / delivered if delivered else None
    rss = [x["rss_mib"] for x in samples]
    steady = rss[len(rss) // 4 :] or rss  # after the first quarter: warm
    return {
        "sessions": int(ready["connections"]),
        "connect_s": ready["t"],
        "rss_start_mib": round(rss_start / 2**20, 1),
        "rss_with_sessions_mib": round(rss_idle / 2**20, 1),
        "rss_max_mib": max(rss, default=None),
        "rss_end_mib": rss[-1] if rss else None,
        "rss_growth_after_warmup_mib": round(steady[-1] - steady[0], 1) if steady else None,
        # The gateway's CPU (all its threads) over the stream per event delivered.
        "gateways_cpu_s": round(cpu - cpu_first, 2),  # all the gateway's processes
        "gateway_cpu_us_per_delivery": None
        if cpu_per_delivery is None
        else round(cpu_per_delivery * 1e6, 2),
        "end_to_end": stream.result,
        "samples": samples,
        "loadavg_1m": round(os.getloadavg()[0], 2),  # others' load on the machine
    }


def _workers(gateway: Path, wampload: Path, s: SoakSettings) -> dict[str, Any]:
    """The same load, shorter, on two workers sharing a Redis engine: what spreading the
    sessions over processes does to the end-to-end latency. Each /metrics answer is one
    worker's, so this phase keeps the end-to-end figures and the CPU of all the processes."""
    s = replace(s, duration_s=min(s.duration_s, WORKERS_PHASE_S))
    redis = RedisProcess()
    try:
        config = f'[engine]\nkind = "redis"\nurl = "{redis.url}"\n'
        spec = TelegraphySpec(gateway, extra_config=config, extra_args=("--workers", "2"))
        print(f"bench: soak: the same, Redis, --workers 2, {s.duration_s:.0f} s", flush=True)
        with RunningRouter(spec, 60.0) as router:
            measured = _soak(router, Loadgen(wampload, router.port), s)
    finally:
        redis.stop()
    publications = measured["end_to_end"]["publishes"]
    deliveries = publications * (measured["sessions"] + s.probe_subscribers)
    cpu = measured["gateways_cpu_s"]
    return {
        "duration_s": s.duration_s,
        "sessions": measured["sessions"],
        "rss_end_mib": measured["rss_end_mib"],
        "gateways_cpu_us_per_delivery": round(cpu / deliveries * 1e6, 2) if deliveries else None,
        "end_to_end": measured["end_to_end"],
    }


def run(gateway: Path, output_dir: Path, quick: bool) -> dict[str, Any]:
    s = QUICK_SOAK if quick else FULL_SOAK
    _raise_open_files_limit(s.sessions + s.probe_subscribers + 256)  # the generator's sockets
    wampload, _ = compile_loadgen()
    spec = TelegraphySpec(gateway)
    print(
        f"bench: soak: {s.sessions} sessions for {s.duration_s:.0f} s, "
        f"{s.publish_rate:g} publications/s to all",
        flush=True,
    )
    with RunningRouter(spec, 60.0) as router:
        measured = _soak(router, Loadgen(wampload, router.port), s)
    results = {
        "title": "Soak: memory and delivery latency over time",
        "mode": "quick" if quick else "full",
        "gateway_version": spec.version(),
        "settings": asdict(s),
        **measured,
        "redis_two_workers": _workers(gateway, wampload, s),
    }
    report.write(results, output_dir / "soak.json")
    print(f"bench: wrote {output_dir / 'soak.json'}", flush=True)
    return results
