"""Who a browser session is, and the lookup of the client records it may resume."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from twisted.internet.defer import Deferred

from telegraphy.core import Grants

from ..engines.base import ClientRecord


@dataclass(frozen=True)
class Identity:
    """Who an authenticated browser session is, and which client record it resumes, if any."""

    user: str | None
    grants: Grants
    previous: ClientRecord | None = None
    # A fresh token sets the expiry of a resumed record; a resume-only join does not.
    extends: bool = True
    info: Any = None  # the token's presence info


class ResumeRefused(Exception):
    """`previous_session` cannot be resumed; the message says why (sent in ABORT)."""


class ClientLookup(Protocol):
    """What authenticators need of the client records."""

    def find(self, client_id: object) -> Deferred[ClientRecord]:
        """The unexpired record named by `previous_session`, or `ResumeRefused`."""
        ...

    def claim(self, client_id: object, user: str | None) -> Deferred[ClientRecord]:
        """The record `user` may resume as `previous_session`, or `ResumeRefused`."""
        ...
