"""Summaries of repeated measurements: median, extremes and relative spread."""

from __future__ import annotations

import statistics
from typing import Any


def summary(values: list[float]) -> dict[str, Any]:
    """Median (the headline), mean, min, max, standard deviation and (max - min) / median."""
    median = statistics.median(values)
    return {
        "median": round(median, 3),
        "mean": round(statistics.fmean(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "stdev": round(statistics.stdev(values), 3) if len(values) > 1 else 0.0,
        "spread_pct": round(100 * (max(values) - min(values)) / median, 1) if median else None,
        "repeats": [round(v, 3) for v in values],
    }


def ratio_summary(numerators: list[float], denominators: list[float]) -> dict[str, Any]:
    """The ratio of medians, and its range over the repeats paired in order (repeat i of one
    configuration ran next to repeat i of the other)."""
    paired = [n / d for n, d in zip(numerators, denominators, strict=True) if d]
    return {
        "ratio_of_medians": round(
            statistics.median(numerators) / statistics.median(denominators), 3
        ),
        "paired_min": round(min(paired), 3),
        "paired_max": round(max(paired), 3),
        "paired": [round(r, 3) for r in paired],
    }
