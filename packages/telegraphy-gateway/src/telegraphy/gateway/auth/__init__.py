"""Authentication: one module per WAMP auth method behind one small interface.

A method sees the HELLO and answers accept, deny or challenge; after a challenge it sees
the AUTHENTICATE and answers accept or deny. An answer that needs the engine (a client record,
the spent-token ledger) comes later, as a Deferred. The session drives the exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from .identity import Identity


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
    # A browser session (token or anonymous): who it is and the client record it resumes.
    identity: Identity | None = None
    # HELLO.authextra.recover: where a resuming client stands (router/recovery.py).
    recover: Any = None


@dataclass(frozen=True)
class Deny:
    reason: str
    message: str


@dataclass(frozen=True)
class Challenge:
    method: str
    extra: dict[str, Any]


Outcome = Accept | Deny | Challenge


class Authenticator(Protocol):
    """One authentication attempt by one session."""

    def hello(self, hello: Hello) -> Outcome | Deferred[Outcome]: ...

    def authenticate(self, signature: str) -> Outcome | Deferred[Outcome]: ...


DENIED = "wamp.error.authentication_denied"
USER_ROLE = "user"
ANONYMOUS_ROLE = "anonymous"


def browser(hello: Hello, method: str, identity: Identity) -> Accept:
    """A browser session's acceptance: authid and authrole follow from its user."""
    recover = hello.authextra.get("recover")
    if identity.user is None:
        authid = f"anonymous-{hello.session_id}"
        return Accept(authid, ANONYMOUS_ROLE, method, identity=identity, recover=recover)
    return Accept(identity.user, USER_ROLE, method, identity=identity, recover=recover)
