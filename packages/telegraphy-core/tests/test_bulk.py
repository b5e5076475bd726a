"""Bulk operations' events: per row as the definition makes them, or batches of `batch_size`
rows; and the definitions' mistakes, said when the class is made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegraphy.core import (
    BULK_BATCH,
    BULK_ROWS,
    Definition,
    Event,
    F,
    bulk_events,
    bulk_problem,
    validate_envelope,
)


@dataclass
class Rows(Definition):
    name: str = "shop.Order"
    bulk: str | None = BULK_ROWS
    batch_size: int = 2

    def event(self, instance: Any, operation: str) -> Event:
        return Event(self.name, {"id": instance}, event_type=operation, verbose_name="order")


def test_rows_send_the_definitions_own_events_one_per_row() -> None:
    events = bulk_events(Rows(), [1, 2, 3], "update")
    assert [(e.event_type, e.data) for e in events] == [("update", {"id": n}) for n in (1, 2, 3)]
    assert bulk_events(Rows(bulk=None), [1, 2], "update") == []


def test_batches_carry_batch_size_rows_and_say_how_many() -> None:
    events = bulk_events(Rows(bulk=BULK_BATCH), [1, 2, 3], "delete")
    assert [e.data for e in events] == [
        {"objects": [{"id": 1}, {"id": 2}]},
        {"objects": [{"id": 3}]},
    ]
    assert [e.meta["batch"] for e in events] == [2, 1]
    assert {(e.name, e.event_type, e.verbose_name) for e in events} == {
        ("shop.Order", "delete", "order")
    }
    for event in events:
        validate_envelope(event.envelope())


class Filtered(Definition):
    def filter_for_user(self, user: Any) -> F:
        return F(customer=user)


def test_mistakes_are_said_with_the_owner_and_what_to_do() -> None:
    plain = Definition()
    assert bulk_problem("Orders", plain, None, 500) is None
    assert bulk_problem("Orders", plain, BULK_BATCH, 1) is None
    assert "Orders.bulk: 'all' is not BULK_ROWS" in str(bulk_problem("Orders", plain, "all", 5))
    assert bulk_problem("Orders", plain, BULK_ROWS, True) == (
        "Orders.batch_size must be a positive int, got True"
    )
    assert bulk_problem("Orders", Filtered(), BULK_ROWS, 5) is None
    assert "use BULK_ROWS" in str(bulk_problem("Orders", Filtered(), BULK_BATCH, 5))
