"""What a user's type checker sees: a declared event class takes its fields as keyword
arguments (`@dataclass_transform` on `Event`), checked by `mypy --strict` on a user's file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_CODE = """
from datetime import datetime

from telegraphy.core import Event, EventRecorder


class OrderShipped(Event):
    name = "shop.OrderShipped"
    order_id: int
    shipped_at: datetime | None = None


recorder = EventRecorder()
OrderShipped(order_id=1).send(recorder)
OrderShipped(order_id=1, shipped_at=datetime.now()).send(recorder)
Event("shop.Order", {"id": 1}, event_type="create").send(recorder)
"""

MISTAKES = """
OrderShipped(order_id="1")
OrderShipped(1)
"""


def mypy_strict(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "mypy.ini").write_text("[mypy]\n")  # not the monorepo's configuration
    (tmp_path / "user.py").write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini", "user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )


def test_mypy_strict_accepts_declared_events_and_catches_misuse(tmp_path: Path) -> None:
    checked = mypy_strict(tmp_path, USER_CODE + MISTAKES)
    first_mistake = USER_CODE.count("\n") + 2
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == [str(first_mistake), str(first_mistake + 1)]
    assert 'Argument "order_id" to "OrderShipped" has incompatible type "str"' in errors[0]
    assert 'Too many positional arguments for "OrderShipped"' in errors[1]
