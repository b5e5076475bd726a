"""`serializer_class`: a Pydantic model, a DRF-style serializer (its `.data`) or a callable
builds a model event's data; anything else is said clearly."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from telegraphy.core import EventError, serialized, serializer_problem


class Row:
    id = 7
    title = "Hello"


class Summary(BaseModel):
    id: int


class DataSerializer:
    """Shaped like a DRF serializer: made with the instance, its output in `.data`."""

    def __init__(self, instance: Any) -> None:
        self.data = {"title": instance.title}


def test_each_kind_builds_a_plain_dict() -> None:
    assert serialized(Summary, Row()) == {"id": 7}
    assert serialized(DataSerializer, Row()) == {"title": "Hello"}
    assert serialized(lambda row: {"shout": row.title.upper()}, Row()) == {"shout": "HELLO"}


def test_a_result_that_is_no_mapping_is_refused() -> None:
    def listing(row: Any) -> list[int]:
        return [row.id]

    with pytest.raises(EventError, match="listing made list, not a mapping"):
        serialized(listing, Row())


def test_problems_name_the_class() -> None:
    assert serializer_problem("Orders", None, ["id"], None) is None
    assert serializer_problem("Orders", Summary, None, None) is None
    assert "Orders.serializer_class must be" in str(serializer_problem("Orders", 3, None, None))
    assert serializer_problem("Orders", Summary, None, ["id"]) == (
        "Orders: serializer_class builds the data; leave out fields and exclude"
    )
