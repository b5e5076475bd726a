"""Bulk operations' events: one per affected row, or batches that carry the rows, as a model
event definition's `bulk` chooses. The adapters find the rows; the events are made here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from ._definitions import Definition
from ._event import Event

BULK_ROWS = "rows"
"""A model event's `bulk`: a bulk operation sends one event per affected row."""
BULK_BATCH = "batch"
"""A model event's `bulk`: a bulk operation sends batch events, `data.objects` the rows."""
BULK_MODES = (BULK_ROWS, BULK_BATCH)
DEFAULT_BATCH_SIZE = 500
"""The most rows one batch event carries, unless the definition sets `batch_size`."""


class ModelEvents(Protocol):
    """What the adapters' `BaseEventModel` offers to bulk operations."""

    @property
    def name(self) -> str: ...
    @property
    def bulk(self) -> str | None: ...
    @property
    def batch_size(self) -> int: ...

    def event(self, instance: Any, operation: str) -> Event: ...


def bulk_problem(
    owner: str, definition: Definition, bulk: object, batch_size: object
) -> str | None:
    """What is wrong with a model event's `bulk` and `batch_size` (None: nothing)."""
    if bulk is not None and bulk not in BULK_MODES:
        return f"{owner}.bulk: {bulk!r} is not BULK_ROWS ('rows'), BULK_BATCH ('batch') or None"
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        return f"{owner}.batch_size must be a positive int, got {batch_size!r}"
    own_filter = type(definition).filter_for_user is not Definition.filter_for_user
    if bulk == BULK_BATCH and own_filter:
        return (
            f"{owner}.bulk: a batch event carries many rows and the gateway cannot filter "
            "among them per user (filter_for_user); use BULK_ROWS"
        )
    return None


def bulk_events(definition: ModelEvents, instances: Iterable[Any], operation: str) -> list[Event]:
    """The events a bulk `operation` on `instances` makes (none if the definition has no `bulk`)."""
    if definition.bulk is None:
        return []
    return batched(definition, [definition.event(i, operation) for i in instances])


def batched(definition: ModelEvents, events: list[Event]) -> list[Event]:
    """`events` (one per row) as the definition sends them: as they are, or in batches."""
    if definition.bulk != BULK_BATCH:
        return events
    size = definition.batch_size
    return [_batch(events[start : start + size]) for start in range(0, len(events), size)]


def _batch(rows: list[Event]) -> Event:
    first = rows[0]
    return Event(
        first.name,
        {"objects": [row.data for row in rows]},
        event_type=first.event_type,
        verbose_name=first.verbose_name,
        meta={"batch": len(rows)},
    )
