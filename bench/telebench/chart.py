"""Draws results/gateway.json as a PNG of bar charts, one panel per figure.

Runs in bench/.venv-crossbar (where matplotlib is installed):
    python chart.py RESULTS.json OUTPUT.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib  # type: ignore[import-not-found, unused-ignore]

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

_COLOURS = {"telegraphy": "#2a7ab0", "crossbar": "#9a9a9a"}
_COLUMNS = 4


def _panel(axes: Any, key: str, meta: dict[str, str], results: dict[str, Any]) -> None:
    routers = results["routers"]
    names = [name for name in routers if key in routers[name]["figures"]]
    values = [routers[name]["figures"][key] for name in names]
    bars = axes.bar(names, values, color=[_COLOURS.get(n, "#c07030") for n in names])
    axes.bar_label(bars, labels=[f"{v:,.1f}" if v < 100 else f"{v:,.0f}" for v in values])
    axes.set_title(f"{meta['label']}\n({meta['better']})", fontsize=10)
    axes.set_ylabel(meta["unit"])
    axes.margins(y=0.15)
    if key.startswith("fanout_"):
        ceiling = results["generator_ceiling_events_per_s"]
        if ceiling < 3 * max(values, default=0):
            axes.axhline(ceiling, color="#c03030", linestyle="--", label="generator ceiling")
            axes.legend(fontsize=8)


def draw(results: dict[str, Any], output: Path) -> None:
    figures = results["figures"]
    rows = -(-len(figures) // _COLUMNS)
    fig, grid = plt.subplots(rows, _COLUMNS, figsize=(4 * _COLUMNS, 4 * rows), squeeze=False)
    cells = [axes for row in grid for axes in row]
    for axes, (key, meta) in zip(cells[: len(figures)], figures.items(), strict=True):
        _panel(axes, key, meta, results)
    for axes in cells[len(figures) :]:
        axes.axis("off")
    versions = ", ".join(f"{n} {r['version']}" for n, r in results["routers"].items())
    ceiling = results["generator_ceiling_events_per_s"]
    fig.suptitle(
        f"Telegraphy gateway vs Crossbar ({results['mode']} run; {versions}; "
        f"load generator ceiling {ceiling:,.0f} events/s)",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(output, dpi=100)


def main() -> None:
    results_path, output = Path(sys.argv[1]), Path(sys.argv[2])
    draw(json.loads(results_path.read_text()), output)


if __name__ == "__main__":
    main()
