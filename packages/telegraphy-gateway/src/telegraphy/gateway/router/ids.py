"""WAMP IDs: random in the global scope, sequential in the session scope (spec: IDs)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Container

MAX_ID = 2**53


def global_id() -> int:
    return secrets.randbelow(MAX_ID) + 1


# Publication IDs name events, not secrets: drawn uniformly (as the spec asks) from a fast
# generator seeded from the OS, instead of a system call per publication.
_publications = random.Random(secrets.randbits(64))


def publication_id() -> int:
    return _publications.randrange(MAX_ID) + 1


def unique_id(taken: Container[int]) -> int:
    """A random ID not in `taken` (router-scope IDs: sessions, subscriptions, registrations)."""
    while True:
        candidate = global_id()
        if candidate not in taken:
            return candidate


class SessionScope:
    """Request IDs the router issues to one session: 1, 2, 3, ... wrapping at 2**53."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = self._last % MAX_ID + 1
        return self._last
