"""The four measurements, each against a freshly started router."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from . import loadgen
from .loadgen import Loadgen, Report
from .routers import RunningRouter
from .settings import FANOUT_TOPIC, IDLE_TOPIC, LATENCY_TOPIC, BenchSettings

# Room for connecting, warm-up and tear-down beyond a scenario's measuring window.
_TIMEOUT_MARGIN_S = 60.0


@dataclass
class Measurement:
    """Headline figures (keys of report.FIGURES) and the raw details behind them."""

    figures: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class _RouterCpuWindow:
    """Router CPU use between the generator's window_start and window_end marks."""

    def __init__(self, router: RunningRouter) -> None:
        self._router = router
        self._marks: dict[str, tuple[float, float]] = {}

    def on_mark(self, mark: str) -> None:
        self._marks[mark] = (time.monotonic(), self._router.cpu_seconds())

    def utilisation(self) -> float | None:
        if "window_start" not in self._marks or "window_end" not in self._marks:
            return None
        (t0, cpu0), (t1, cpu1) = self._marks["window_start"], self._marks["window_end"]
        return round((cpu1 - cpu0) / (t1 - t0), 3) if t1 > t0 else None


def _run_windowed(
    router: RunningRouter, gen: Loadgen, mode: str, options: list[str], window_s: float
) -> tuple[Report, float | None]:
    cpu = _RouterCpuWindow(router)
    report = loadgen.run(gen, mode, options, window_s + _TIMEOUT_MARGIN_S * 2, cpu.on_mark)
    return report, cpu.utilisation()


def fanout(router: RunningRouter, gen: Loadgen, s: BenchSettings, subscribers: int) -> Measurement:
    options = [
        "--topic",
        FANOUT_TOPIC,
        "--subscribers",
        str(subscribers),
        "--window",
        str(s.publish_window),
        "--max-lag",
        str(s.max_lag_per_subscriber),
        "--payload-bytes",
        str(s.payload_bytes),
        "--warmup",
        str(s.fanout_warmup_s),
        "--duration",
        str(s.fanout_duration_s),
        "--setup-timeout",
        str(s.setup_timeout_s),
    ]
    report, router_cpu = _run_windowed(router, gen, "fanout", options, s.setup_timeout_s)
    return Measurement(
        figures={f"fanout_{subscribers}_events_per_s": report["events_per_s"]},
        details={**report, "router_cpu": router_cpu},
    )


def latency(router: RunningRouter, gen: Loadgen, s: BenchSettings) -> Measurement:
    options = [
        "--topic",
        LATENCY_TOPIC,
        "--subscribers",
        str(s.latency_subscribers),
        "--rate",
        str(s.latency_publish_rate),
        "--payload-bytes",
        str(s.payload_bytes),
        "--warmup",
        str(s.latency_warmup_s),
        "--duration",
        str(s.latency_duration_s),
        "--setup-timeout",
        str(s.setup_timeout_s),
    ]
    report, router_cpu = _run_windowed(router, gen, "fanout", options, s.setup_timeout_s)
    return Measurement(
        figures={
            "latency_p50_ms": report["latency_p50_ms"],
            "latency_p99_ms": report["latency_p99_ms"],
        },
        details={**report, "router_cpu": router_cpu},
    )


def sessions(router: RunningRouter, gen: Loadgen, s: BenchSettings, auth: str) -> Measurement:
    options = [
        "--auth",
        auth,
        "--concurrency",
        str(s.session_concurrency),
        "--warmup",
        str(s.sessions_warmup_s),
        "--duration",
        str(s.sessions_duration_s),
    ]
    window = s.sessions_warmup_s + s.sessions_duration_s
    report, router_cpu = _run_windowed(router, gen, "sessions", options, window)
    return Measurement(
        figures={f"sessions_per_s_{auth}": report["sessions_per_s"]},
        details={**report, "router_cpu": router_cpu},
    )


def idle_memory(router: RunningRouter, gen: Loadgen, s: BenchSettings) -> Measurement:
    """RSS growth of the router's processes per idle subscribed session."""
    time.sleep(s.idle_settle_s)
    before = router.rss_bytes()
    options = [
        "--topic",
        IDLE_TOPIC,
        "--subscribers",
        str(s.idle_connections),
        "--setup-timeout",
        str(s.setup_timeout_s),
        "--hold-timeout",
        str(s.idle_settle_s + _TIMEOUT_MARGIN_S),
    ]
    timeout = s.setup_timeout_s + s.idle_settle_s + _TIMEOUT_MARGIN_S * 2
    with loadgen.idle_connections(gen, options, timeout) as ready:
        time.sleep(s.idle_settle_s)
        after = router.rss_bytes()
    connections = int(ready["connections"])
    per_connection = (after - before) / connections / 1024
    return Measurement(
        figures={"memory_per_idle_connection_kib": round(per_connection, 2)},
        details={
            "connections": connections,
            "rss_before_bytes": before,
            "rss_after_bytes": after,
            "connect_s": ready["t"],
        },
    )
