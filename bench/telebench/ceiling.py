"""The load generator's own ceiling: fan-out against wampblast, an ideal C router that
costs almost nothing per event, so the generator is the bottleneck (or close to it)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import loadgen
from .errors import BenchError
from .loadgen import Loadgen
from .routers import free_port
from .settings import FANOUT_TOPIC, BenchSettings

_SUBSCRIBERS = 1000
_WINDOW = 64
_MAX_LAG = 512


@dataclass(frozen=True)
class Ceiling:
    events_per_s: float
    generator_cpu: float
    details: dict[str, Any]


def measure(wampload: Path, wampblast: Path, s: BenchSettings) -> Ceiling:
    port = free_port()
    bound_s = s.setup_timeout_s + s.fanout_warmup_s + s.fanout_duration_s + 30
    server = subprocess.Popen(
        [str(wampblast), "--port", str(port), "--duration", str(bound_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if server.stdout is None or '"listening"' not in server.stdout.readline():
            raise BenchError("wampblast did not start")
        options = [
            "--topic",
            FANOUT_TOPIC,
            "--subscribers",
            str(_SUBSCRIBERS),
            "--window",
            str(_WINDOW),
            "--max-lag",
            str(_MAX_LAG),
            "--payload-bytes",
            str(s.payload_bytes),
            "--warmup",
            str(s.fanout_warmup_s),
            "--duration",
            str(s.fanout_duration_s),
        ]
        report = loadgen.run(Loadgen(wampload, port), "fanout", options, bound_s)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return Ceiling(report["events_per_s"], report["generator_cpu"], report)
