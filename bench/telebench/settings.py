"""What one run measures and how long it takes (full or --quick)."""

from __future__ import annotations

from dataclasses import dataclass

HOST = "127.0.0.1"
WS_PATH = "/ws"
REALM = "telegraphy"
BACKEND_AUTHID = "bench-backend"
BACKEND_SECRET = "bench-secret-not-for-production"
PUBLIC_PREFIX = "bench."
FANOUT_TOPIC = "bench.fanout"
LATENCY_TOPIC = "bench.latency"
IDLE_TOPIC = "bench.idle"
OPEN_FILES_LIMIT = 65536


@dataclass(frozen=True)
class BenchSettings:
    """Sizes and durations; every scenario is bounded by these."""

    fanout_subscribers: tuple[int, ...] = (100, 1000)
    fanout_warmup_s: float = 3.0
    fanout_duration_s: float = 10.0
    publish_window: int = 128
    max_lag_per_subscriber: int = 1024
    payload_bytes: int = 200
    latency_subscribers: int = 100
    latency_publish_rate: float = 200.0
    latency_warmup_s: float = 2.0
    latency_duration_s: float = 10.0
    session_concurrency: int = 50
    sessions_warmup_s: float = 2.0
    sessions_duration_s: float = 8.0
    idle_connections: int = 5000
    idle_settle_s: float = 3.0
    setup_timeout_s: float = 120.0
    router_start_timeout_s: float = 60.0


FULL = BenchSettings()

QUICK = BenchSettings(
    fanout_warmup_s=1.0,
    fanout_duration_s=2.0,
    latency_warmup_s=0.5,
    latency_duration_s=2.0,
    sessions_warmup_s=0.5,
    sessions_duration_s=2.0,
    idle_connections=500,
    idle_settle_s=1.0,
    setup_timeout_s=60.0,
)
