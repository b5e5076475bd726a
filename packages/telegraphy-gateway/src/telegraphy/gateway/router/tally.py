"""What the broker delivered, counted per publication and per codec group (never per write):
events delivered, their bytes, the latency from acceptance to the frames written, and the
outcomes of recoveries. Plain numbers, read by /metrics and /stats when they are asked."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter

from ..engines.base import (
    GAP_EPOCH_CHANGED,
    GAP_INVALID_POSITION,
    GAP_TOO_MANY,
    GAP_TOO_OLD,
    Clock,
)
from ..wire import CODECS
from .recovery import GAP_UNAVAILABLE

GAPS = (GAP_TOO_OLD, GAP_TOO_MANY, GAP_EPOCH_CHANGED, GAP_INVALID_POSITION, GAP_UNAVAILABLE)
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    1.5,
    2.5,
    5,
)
"""Upper bounds (seconds) of the delivery latency histogram's buckets."""


class DeliveryTally:
    def __init__(
        self, clock: Clock = time.time, bounds: tuple[float, ...] = LATENCY_BUCKETS
    ) -> None:
        self._clock = clock
        self.deliveries = 0  # EVENTs of publications written to sessions (live, not replays)
        # Their frames' bytes, by serializer (every one listed: the series exist from the start).
        self.bytes_out = {codec.name: 0 for codec in CODECS.values()}
        self.latency_bounds = bounds
        self.latency_counts = [0] * (len(bounds) + 1)  # per bucket, the last one +Inf
        self.latency_sum = 0.0
        self._unsent: list[float] | None = None  # acceptance times of publications not sent
        self._deliveries_seen = 0
        self.recoveries = 0  # recovery reports sent (one per subscription asking)
        self.recovered = 0  # events replayed by them
        # Topics that could not be recovered, by reason (every one listed from the start).
        self.gaps: Counter[str] = Counter(dict.fromkeys(GAPS, 0))

    def written(self, serializer: str, frame: bytes, sessions: int) -> None:
        """One frame written to `sessions` sessions of one codec group."""
        self.deliveries += sessions
        self.bytes_out[serializer] += len(frame) * sessions

    def delivered(self, accepted_at: float) -> None:
        """A publication's frames are all handed to its sessions. Its latency since it was
        accepted is observed now, or, while connections send their frames at the end of the
        reactor turn (`hold_until_sent`), once they are sent (`sent`)."""
        wrote = self.deliveries != self._deliveries_seen
        self._deliveries_seen = self.deliveries
        if self._unsent is not None and wrote:
            self._unsent.append(accepted_at)
        else:
            self._observe(self._clock() - accepted_at)

    def hold_until_sent(self) -> None:
        self._unsent = []

    def sent(self) -> None:
        """The frames of this turn left: the latencies of the publications they carried."""
        unsent = self._unsent
        if unsent:
            self._unsent = []
            now = self._clock()
            for accepted_at in unsent:
                self._observe(now - accepted_at)

    def _observe(self, seconds: float) -> None:
        self.latency_counts[bisect_left(self.latency_bounds, seconds)] += 1
        self.latency_sum += seconds

    def latency_buckets(self) -> list[tuple[str, int]]:
        """(upper bound, publications at or below it), ending with +Inf: Prometheus' shape."""
        total = 0
        found = []
        bounds = (*map(str, self.latency_bounds), "+Inf")
        for bound, count in zip(bounds, self.latency_counts, strict=True):
            total += count
            found.append((bound, total))
        return found

    def recovery(self, recovered: int, gaps: list[str]) -> None:
        self.recoveries += 1
        self.recovered += recovered
        self.gaps.update(gaps)
