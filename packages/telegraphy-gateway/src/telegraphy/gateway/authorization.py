"""What an authenticated session may do: permissions decided once, at authentication."""

from __future__ import annotations

from typing import Literal, Protocol

from .router.uri import Pattern

Action = Literal["publish", "subscribe", "call", "register"]


class Permissions(Protocol):
    def allows(self, action: Action, target: Pattern) -> bool: ...


class AllowAll:
    """Backends (WAMP-CRA): publish, subscribe, call and register anything."""

    def allows(self, action: Action, target: Pattern) -> bool:
        return True


class SubscribePublic:
    """Anonymous sessions: subscribe to topics the public patterns fully cover; nothing else."""

    def __init__(self, public: tuple[Pattern, ...]) -> None:
        self._public = public

    def allows(self, action: Action, target: Pattern) -> bool:
        return action == "subscribe" and any(p.covers(target) for p in self._public)
