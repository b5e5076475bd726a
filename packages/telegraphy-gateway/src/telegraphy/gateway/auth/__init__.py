"""Authentication: one module per WAMP auth method behind one small interface.

A method sees the HELLO and answers accept, deny or challenge; after a challenge it sees
the AUTHENTICATE and answers accept or deny. The session drives the exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Hello:
    """What the router needs from a HELLO to authenticate it."""

    realm: str
    session_id: int
    authid: str | None
    authextra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Accept:
    authid: str
    authrole: str
    authmethod: str
    authprovider: str = "static"
    authextra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Deny:
    reason: str
    message: str


@dataclass(frozen=True)
class Challenge:
    method: str
    extra: dict[str, Any]


class Authenticator(Protocol):
    """One authentication attempt by one session."""

    def hello(self, hello: Hello) -> Accept | Deny | Challenge: ...

    def authenticate(self, signature: str) -> Accept | Deny: ...


DENIED = "wamp.error.authentication_denied"
