"""What the members of a chat room see of each other: the user name, in the page's token."""

from __future__ import annotations

from typing import Any


def info(user: Any) -> dict[str, str] | None:
    return {"name": user.get_username()} if user.is_authenticated else None
