"""The outbox's Prometheus metrics, when prometheus_client is installed in the web app."""

from __future__ import annotations

import math
import threading
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from telegraphy.core import outbox_lag_gauge

from . import outbox

_lock = threading.Lock()
_registered = False


def register(registry: Any = None) -> bool:
    """Add `telegraphy_outbox_lag_seconds` to `registry` (default: prometheus_client's), once
    for the default; False when prometheus_client is not installed."""
    global _registered
    if registry is not None:
        return outbox_lag_gauge(_lag, registry)
    with _lock:
        if not _registered:
            _registered = outbox_lag_gauge(_lag)
        return _registered


def _lag() -> float:
    # A scrape must not fail for a database that is away: it reports NaN instead.
    try:
        return outbox.lag(DEFAULT_DB_ALIAS) or 0.0
    except Exception:
        return math.nan
