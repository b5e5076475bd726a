"""The history group: what per-topic streams with history cost the gateway's fan-out.

The existing saturating fan-out scenario (C load generator, N subscribers, one publisher)
against three gateway configurations, each started fresh in its own temporary directory
(the SQLite file lands there), repeats interleaved (a, b, c, a, b, c, ...) so that drift of
the machine hits every configuration alike. Results in results/history.json.
"""

from __future__ import annotations

import json
import os
import platform
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import ceiling, report, scenarios, spread
from .bootstrap import compile_loadgen
from .errors import BenchError
from .loadgen import Loadgen
from .routers import RunningRouter, TelegraphySpec
from .settings import FULL, QUICK, BenchSettings


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    short: str
    config: str
    args: tuple[str, ...] = ()  # more command-line options for the gateway
    processes: int = 1  # gateway processes that must answer before the run starts


VARIANTS = (
    Variant(
        "memory_no_history",
        "memory engine, history size 0 (baseline)",
        "(a) memory,\nno history",
        '[engine]\nkind = "memory"\n\n[history]\nsize = 0\n',
    ),
    Variant(
        "memory_history",
        "memory engine, history size 1000",
        "(b) memory,\nhistory 1000",
        '[engine]\nkind = "memory"\n\n[history]\nsize = 1000\nttl = 300\n',
    ),
    Variant(
        "sqlite_history",
        "SQLite engine, history size 1000 (the default)",
        "(c) SQLite,\nhistory 1000",
        '[engine]\nkind = "sqlite"\n\n[history]\nsize = 1000\nttl = 300\n',
    ),
)


@dataclass(frozen=True)
class HistorySettings:
    subscribers: int
    repeats: int
    fanout: BenchSettings
    # The fixed-rate run: rate and window (latency_* fields of BenchSettings).
    rate: BenchSettings


# Longer windows than the gateway group's: the publisher's window of 128 publications to 1000
# subscribers arrives in bursts of 128,000 events, so a window holding few bursts is coarse.
FULL_HISTORY = HistorySettings(
    subscribers=1000,
    repeats=5,
    fanout=replace(FULL, fanout_duration_s=15.0),
    rate=replace(FULL, latency_subscribers=1000, latency_publish_rate=20.0),
)
QUICK_HISTORY = HistorySettings(
    subscribers=1000,
    repeats=3,
    fanout=replace(QUICK, fanout_warmup_s=1.0, fanout_duration_s=4.0),
    rate=replace(
        QUICK,
        latency_subscribers=1000,
        latency_publish_rate=20.0,
        latency_warmup_s=1.0,
        latency_duration_s=4.0,
    ),
)


@dataclass(frozen=True)
class Family:
    """One figure measured for every variant, compared with the baseline."""

    key: str
    title: str
    unit: str
    better: str


FAMILIES = (
    Family("events_per_s", "Saturating fan-out", "events/s", "higher"),
    Family("router_cpu_us_per_event", "Saturating: router CPU per delivered event", "µs", "lower"),
    Family(
        "fixed_rate_router_cpu_us_per_event",
        "Fixed rate: router CPU per delivered event",
        "µs",
        "lower",
    ),
    Family("fixed_rate_latency_p50_ms", "Fixed rate: latency p50", "ms", "lower"),
    Family("fixed_rate_latency_p99_ms", "Fixed rate: latency p99", "ms", "lower"),
)


def _checked(details: dict[str, Any], what: str) -> dict[str, Any]:
    if details.get("errors") or details.get("subscribers_lost"):
        raise BenchError(f"history: {what}: errors or lost subscribers: {details}")
    details["loadavg_1m"] = round(os.getloadavg()[0], 2)  # others' load on the machine
    return details


def _one(gateway: Path, variant: Variant, wampload: Path, s: HistorySettings) -> dict[str, Any]:
    """A saturating run and a fixed-rate run, each against a freshly started gateway."""
    spec = TelegraphySpec(gateway, extra_config=variant.config, extra_args=variant.args)
    with RunningRouter(spec, s.fanout.router_start_timeout_s) as router:
        _await_processes(router.port, variant.processes, s.fanout.router_start_timeout_s)
        saturating = scenarios.fanout(
            router, Loadgen(wampload, router.port), s.fanout, subscribers=s.subscribers
        ).details
    with RunningRouter(spec, s.rate.router_start_timeout_s) as router:
        _await_processes(router.port, variant.processes, s.rate.router_start_timeout_s)
        fixed = scenarios.latency(router, Loadgen(wampload, router.port), s.rate).details
    _checked(saturating, f"{variant.key} saturating")
    _checked(fixed, f"{variant.key} fixed rate")
    return {
        "events_per_s": float(saturating["events_per_s"]),
        # The router's CPU time per delivered event: less sensitive than the rate to other
        # load on the machine taking the router's core away (not immune: caches, steal).
        "router_cpu_us_per_event": float(saturating["router_cpu"])
        * 1e6
        / float(saturating["events_per_s"]),
        "fixed_rate_router_cpu_us_per_event": float(fixed["router_cpu"])
        * 1e6
        / float(fixed["events_per_s"]),
        "fixed_rate_latency_p50_ms": float(fixed["latency_p50_ms"]),
        "fixed_rate_latency_p99_ms": float(fixed["latency_p99_ms"]),
        "saturating": saturating,
        "fixed_rate": fixed,
    }


def _await_processes(port: int, processes: int, timeout_s: float) -> None:
    """Wait until `processes` distinct gateway processes answer /ready on `port` (the
    workers of `--workers N` start one by one)."""
    if processes <= 1:
        return
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < processes:
        if time.monotonic() > deadline:
            raise BenchError(f"only {len(seen)} of {processes} gateway processes answered")
        try:
            base = f"http://127.0.0.1:{port}"
            with (
                urllib.request.urlopen(f"{base}/ready", timeout=1) as ready,
                urllib.request.urlopen(f"{base}/health", timeout=1) as health,
            ):
                if ready.status == 200:
                    seen.add(int(json.load(health)["pid"]))
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)


@dataclass(frozen=True)
class Group:
    """A group of variants measured alike: the history group, or the scale group."""

    key: str
    title: str
    variants: tuple[Variant, ...]
    letters: str = "bcdefg"


HISTORY = Group("history", "History cost", VARIANTS)


def run(gateway: Path, output_dir: Path, quick: bool, group: Group = HISTORY) -> dict[str, Any]:
    s = QUICK_HISTORY if quick else FULL_HISTORY
    variants = group.variants
    baseline = variants[0].key
    name = group.key
    wampload, wampblast = compile_loadgen()
    print(f"bench: {name}: measuring the load generator's ceiling", flush=True)
    generator = ceiling.measure(wampload, wampblast, s.fanout)
    runs: dict[str, list[dict[str, Any]]] = {v.key: [] for v in variants}
    for repeat in range(s.repeats):
        for variant in variants:
            print(f"bench: {name}: {variant.label}, repeat {repeat + 1}/{s.repeats}", flush=True)
            one = _one(gateway, variant, wampload, s)
            runs[variant.key].append(one)
            print(
                f"bench: {name}: {variant.key}: {one['events_per_s']:,.0f} events/s, "
                + ", ".join(f"{f.key} {one[f.key]:.3f}" for f in FAMILIES[1:])
                + f" (load average {one['fixed_rate']['loadavg_1m']})",
                flush=True,
            )
    figures: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    for family in FAMILIES:
        values = {v.key: [float(r[family.key]) for r in runs[v.key]] for v in variants}
        for v in variants:
            key = v.key if family.key == "events_per_s" else f"{v.key}_{family.key}"
            figures[key] = {
                "label": f"{v.label}: {family.title}",
                "short": v.short,
                "unit": family.unit,
                "better": family.better,
                **spread.summary(values[v.key]),
            }
        ratios[family.key] = {
            f"{v.key}/{baseline}": spread.ratio_summary(values[v.key], values[baseline])
            for v in variants[1:]
        }
    results = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mode": "quick" if quick else "full",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "gateway_version": TelegraphySpec(gateway).version(),
        "what": (
            f"{s.subscribers} subscribers on one topic, one WAMP-CRA publisher (acknowledge: "
            "true). Saturating: as the gateway group's fan-out (flow control), events received "
            "per second in the window, and the router's CPU time per delivered event. Fixed "
            f"rate: {s.rate.latency_publish_rate:.0f} publications/s, the router's CPU time per "
            "delivered event and the publish-to-receive latency. Median over the repeats; "
            "ratios to the baseline (a)."
        ),
        "title": f"{group.title}: fan-out to {s.subscribers} subscribers",
        "generator_ceiling_events_per_s": generator.events_per_s,
        "generator_cpu_at_ceiling": generator.generator_cpu,
        "figures": figures,
        "ratios": ratios,
        "panels": [
            {
                "title": f"{family.title} ({family.better} is better)",
                "keys": [
                    v.key if family.key == "events_per_s" else f"{v.key}_{family.key}"
                    for v in variants
                ],
                "note": ", ".join(
                    f"{group.letters[i]}/a {r['ratio_of_medians']:.3f}"
                    for i, r in enumerate(ratios[family.key].values())
                ),
            }
            for family in FAMILIES
        ],
        "configs": {v.key: v.config + " ".join(v.args) for v in variants},
        "settings": {
            "subscribers": s.subscribers,
            "repeats": s.repeats,
            "warmup_s": s.fanout.fanout_warmup_s,
            "duration_s": s.fanout.fanout_duration_s,
            "publish_window": s.fanout.publish_window,
            "max_lag_per_subscriber": s.fanout.max_lag_per_subscriber,
            "payload_bytes": s.fanout.payload_bytes,
            "fixed_rate_publications_per_s": s.rate.latency_publish_rate,
            "fixed_rate_warmup_s": s.rate.latency_warmup_s,
            "fixed_rate_duration_s": s.rate.latency_duration_s,
        },
        "runs": runs,
    }
    path = output_dir / f"{name}.json"
    report.write(results, path)
    for key, figure in figures.items():
        print(
            f"bench: {name}: {key:<48} median {figure['median']:>12,.3f} {figure['unit']}  "
            f"min {figure['min']:,.3f} max {figure['max']:,.3f} (spread {figure['spread_pct']}%)"
        )
    for family_key, table in ratios.items():
        for key, ratio in table.items():
            print(
                f"bench: {name}: {family_key} {key:<36} {ratio['ratio_of_medians']:.3f} "
                f"(paired {ratio['paired_min']:.3f}..{ratio['paired_max']:.3f})"
            )
    print(
        f"bench: {name}: generator ceiling {generator.events_per_s:,.0f} events/s "
        f"(generator CPU {generator.generator_cpu:.0%} of one core)"
    )
    print(f"bench: wrote {path}", flush=True)
    return results
