"""Summaries of measured durations, in microseconds, shared by the benchmark groups."""

from __future__ import annotations

import statistics

DEFAULT_POINTS = {"p50_us": 0.50, "p99_us": 0.99}


def percentiles_us(
    costs_ns: list[int], points: dict[str, float] = DEFAULT_POINTS
) -> dict[str, float]:
    """The given percentiles (name -> fraction), max and mean of durations in nanoseconds."""
    ordered = sorted(costs_ns)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000, 2)

    return {
        **{name: at(fraction) for name, fraction in points.items()},
        "max_us": round(ordered[-1] / 1000, 2),
        "mean_us": round(statistics.fmean(ordered) / 1000, 2),
    }
