"""The results file: figures per router and telegraphy/crossbar ratios."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ceiling import Ceiling
from .settings import BenchSettings

HIGHER = "higher is better"
LOWER = "lower is better"


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    better: str


FIGURES = (
    Figure("fanout_100_events_per_s", "Fan-out, 100 subscribers", "events/s", HIGHER),
    Figure("fanout_1000_events_per_s", "Fan-out, 1000 subscribers", "events/s", HIGHER),
    Figure("latency_p50_ms", "Latency p50", "ms", LOWER),
    Figure("latency_p99_ms", "Latency p99", "ms", LOWER),
    Figure("sessions_per_s_anonymous", "Sessions/s (anonymous)", "sessions/s", HIGHER),
    Figure("sessions_per_s_wampcra", "Sessions/s (WAMP-CRA)", "sessions/s", HIGHER),
    Figure("memory_per_idle_connection_kib", "Memory per idle connection", "KiB", LOWER),
)


@dataclass
class RouterResults:
    name: str
    version: str
    figures: dict[str, float]
    details: dict[str, Any]


def _ratios(routers: dict[str, RouterResults]) -> dict[str, Any]:
    if "telegraphy" not in routers or "crossbar" not in routers:
        return {}
    ours, theirs = routers["telegraphy"].figures, routers["crossbar"].figures
    ratios: dict[str, Any] = {}
    for figure in FIGURES:
        if figure.key in ours and theirs.get(figure.key):
            ratio = ours[figure.key] / theirs[figure.key]
            telegraphy_better = ratio > 1 if figure.better == HIGHER else ratio < 1
            ratios[figure.key] = {
                "telegraphy/crossbar": round(ratio, 3),
                "better": figure.better,
                "telegraphy_better": telegraphy_better,
            }
    return ratios


def build(
    routers: dict[str, RouterResults], ceiling: Ceiling, settings: BenchSettings, quick: bool
) -> dict[str, Any]:
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mode": "quick" if quick else "full",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "generator_ceiling_events_per_s": ceiling.events_per_s,
        "generator_cpu_at_ceiling": ceiling.generator_cpu,
        "figures": {f.key: {"label": f.label, "unit": f.unit, "better": f.better} for f in FIGURES},
        "routers": {
            name: {"version": r.version, "figures": r.figures, "details": r.details}
            for name, r in routers.items()
        },
        "ratios": _ratios(routers),
        "settings": settings.__dict__,
        "ceiling_details": ceiling.details,
    }


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def summary(results: dict[str, Any]) -> str:
    routers = results["routers"]
    names = list(routers)
    lines = [f"{'figure':<34}" + "".join(f"{n:>14}" for n in names) + f"{'ratio':>10}"]
    for key, meta in results["figures"].items():
        values = "".join(f"{routers[n]['figures'].get(key, float('nan')):>14.2f}" for n in names)
        ratio = results["ratios"].get(key, {}).get("telegraphy/crossbar")
        ratio_text = f"{ratio:>10.2f}" if ratio is not None else f"{'':>10}"
        lines.append(f"{meta['label'] + ' (' + meta['unit'] + ')':<34}{values}{ratio_text}")
    lines.append(
        f"generator ceiling: {results['generator_ceiling_events_per_s']:.0f} events/s "
        f"(generator CPU {results['generator_cpu_at_ceiling']:.0%} of one core)"
    )
    return "\n".join(lines)
