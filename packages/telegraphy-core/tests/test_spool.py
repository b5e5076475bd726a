"""The disk spool: order, bound, prepending at close, persistence, one process per file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from telegraphy.core import ConfigurationError, EventError
from telegraphy.core._spool import Spool

MakeEnvelope = Callable[..., dict[str, Any]]


def numbers(spool: Spool, limit: int = 100) -> list[int]:
    return [envelope["data"]["n"] for _, envelope in spool.peek(limit)]


def test_rows_leave_in_order_and_only_when_removed(
    tmp_path: Path, make_envelope: MakeEnvelope
) -> None:
    spool = Spool(str(tmp_path / "spool.db"), capacity=3)
    assert all(spool.append(make_envelope(n)) for n in range(3))
    assert not spool.append(make_envelope(3))  # full: the caller decides what that means
    assert len(spool) == 3 and numbers(spool) == [0, 1, 2]
    rows = spool.peek(2)
    assert numbers(spool) == [0, 1, 2]  # peeking takes nothing
    spool.remove(rows[0][0], rows[-1][0])
    assert len(spool) == 1 and numbers(spool) == [2]
    assert spool.append(make_envelope(4))
    assert numbers(spool) == [2, 4]
    with pytest.raises(EventError, match="JSON"):
        spool.append(make_envelope(5, when=object()))
    assert len(spool) == 2
    spool.close()


def test_prepend_puts_older_events_in_front_within_the_bound(
    tmp_path: Path, make_envelope: MakeEnvelope
) -> None:
    spool = Spool(str(tmp_path / "spool.db"), capacity=5)
    spool.append(make_envelope(10))
    assert spool.prepend([make_envelope(n) for n in (7, 8, 9)]) == 3
    assert spool.prepend([make_envelope(n) for n in (5, 6)]) == 1  # one place left
    assert numbers(spool) == [5, 7, 8, 9, 10]
    spool.close()
    empty = Spool(str(tmp_path / "other.db"), capacity=5)
    assert empty.prepend([make_envelope(1), make_envelope(2)]) == 2
    assert numbers(empty) == [1, 2]
    empty.close()


def test_rows_survive_reopening_and_a_file_serves_one_owner(
    tmp_path: Path, make_envelope: MakeEnvelope
) -> None:
    path = str(tmp_path / "spool.db")
    spool = Spool(path, capacity=10)
    for n in range(4):
        spool.append(make_envelope(n))
    with pytest.raises(ConfigurationError, match="in use by another process"):
        Spool(path, capacity=10)
    spool.close()
    reopened = Spool(path, capacity=10)
    assert len(reopened) == 4 and numbers(reopened) == [0, 1, 2, 3]
    reopened.close()
