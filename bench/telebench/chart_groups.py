"""Draws results/history.json or results/storm.json as a PNG: one panel per entry of its
"panels", a bar per figure (the median) with the range over the repeats as an error bar;
results/soak.json (its "samples") as memory, latency and deliveries against time.

Runs in bench/.venv-crossbar (where matplotlib is installed):
    python chart_groups.py RESULTS.json OUTPUT.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib  # type: ignore[import-not-found, unused-ignore]

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

_COLOURS = ("#9a9a9a", "#2a7ab0", "#c07030", "#5a9a40")
_COLUMNS = 3


def _panel(axes: Any, panel: dict[str, Any], figures: dict[str, Any]) -> None:
    keys = panel["keys"]
    medians = [figures[k]["median"] for k in keys]
    low = [figures[k]["median"] - figures[k]["min"] for k in keys]
    high = [figures[k]["max"] - figures[k]["median"] for k in keys]
    labels = [figures[k].get("short", k) for k in keys]
    bars = axes.bar(labels, medians, yerr=[low, high], capsize=6, color=_COLOURS[: len(keys)])
    axes.bar_label(
        bars, labels=[f"{v:,.2f}" if v < 100 else f"{v:,.0f}" for v in medians], padding=8
    )
    axes.set_title(panel["title"], fontsize=10)
    axes.set_ylabel(figures[keys[0]]["unit"])
    axes.margins(y=0.2)
    if panel.get("note"):
        axes.set_xlabel(panel["note"], fontsize=9)


def _draw_series(results: dict[str, Any], output: Path) -> None:
    """A soak's samples against time: memory, latency, deliveries (results/soak.json)."""
    samples = results["samples"]
    t = [x["t_s"] for x in samples]
    fig, (memory, latency, rate) = plt.subplots(3, 1, figsize=(10, 11), sharex=True)
    memory.plot(t, [x["rss_mib"] for x in samples], color="#2a7ab0")
    memory.set_ylabel("RSS (MiB)")
    memory.set_ylim(bottom=0)
    memory.set_title("Gateway memory (resident set)", fontsize=10)
    for key, colour in (("latency_p50_ms", "#2a7ab0"), ("latency_p99_ms", "#c07030")):
        values = [float("nan") if x[key] is None else x[key] for x in samples]  # none observed
        latency.plot(t, values, color=colour, label=key.split("_")[1])
    latency.set_ylabel("ms")
    latency.set_ylim(bottom=0)
    latency.legend()
    latency.set_title(
        "Delivery latency per interval (gateway: publication accepted to frames sent)",
        fontsize=10,
    )
    rates = [x["deliveries_per_s"] for x in samples]
    rate.plot(t, rates, color="#5a9a40", label="events/s")
    rate.set_ylabel("events/s")
    rate.set_ylim(0, max(rates, default=1) * 1.2)
    rate.set_xlabel("seconds since the sessions were connected")
    if all("gateway_cpu_pct" in x for x in samples):
        cpu = rate.twinx()
        cpu.plot(t, [x["gateway_cpu_pct"] for x in samples], color="#888888", label="CPU %")
        cpu.set_ylabel("gateway CPU (% of one core)")
        cpu.set_ylim(0, 110)
        cpu.legend(loc="lower right")
    rate.set_title("Events delivered per second, and the gateway's CPU", fontsize=10)
    s, e2e = results["settings"], results["end_to_end"]
    title = (
        f"{results['title']} ({results['mode']} run, telegraphy-gateway "
        f"{results['gateway_version']})\n{results['sessions']} sessions, "
        f"{s['publish_rate']:g} publications/s to all; end to end over the run: "
        f"p50 {e2e.get('latency_p50_ms', '?')} ms, p99 {e2e.get('latency_p99_ms', '?')} ms"
    )
    workers = results.get("redis_two_workers")
    if workers:
        w = workers["end_to_end"]
        title += (
            f"\nthe same on Redis with --workers 2 ({workers['duration_s']:.0f} s): "
            f"p50 {w.get('latency_p50_ms', '?')} ms, p99 {w.get('latency_p99_ms', '?')} ms"
        )
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(output, dpi=100)


def draw(results: dict[str, Any], output: Path) -> None:
    if "samples" in results:
        _draw_series(results, output)
        return
    panels = results["panels"]
    columns = min(len(panels), _COLUMNS)
    rows = -(-len(panels) // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(6 * columns, 5 * rows), squeeze=False)
    cells = [axes for row in grid for axes in row]
    for axes, panel in zip(cells, panels, strict=False):
        _panel(axes, panel, results["figures"])
    for axes in cells[len(panels) :]:
        axes.axis("off")
    repeats = results["settings"]["repeats"]
    fig.suptitle(
        f"{results['title']} ({results['mode']} run, telegraphy-gateway "
        f"{results['gateway_version']}; median of {repeats}, bars: min..max)",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(output, dpi=100)


def main() -> None:
    results_path, output = Path(sys.argv[1]), Path(sys.argv[2])
    draw(json.loads(results_path.read_text()), output)


if __name__ == "__main__":
    main()
