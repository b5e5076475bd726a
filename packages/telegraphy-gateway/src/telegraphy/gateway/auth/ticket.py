"""Ticket authentication with the web app's tokens (docs/authentication.rst).

HELLO offers `ticket` (optionally an authid, and authextra.previous_session naming a client id
to resume); the gateway answers CHALLENGE; AUTHENTICATE carries the token. A token is read,
checked against the HELLO and spent once. An empty signature with a previous_session resumes
that client record without a new token, as the user and with the grants it had.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from telegraphy.core import TokenError, read_token

from ..engines.base import ClientRecord, TokenLedger
from . import DENIED, Accept, Challenge, Deny, Hello, Outcome, browser
from .identity import ClientLookup, Identity, ResumeRefused

LEEWAY = 5.0
"""Seconds of clock difference tolerated between the web app and the gateway."""


class TicketAuthenticator:
    def __init__(self, secret: str, ledger: TokenLedger, clients: ClientLookup) -> None:
        self._secret = secret
        self._ledger = ledger
        self._clients = clients
        self._hello: Hello | None = None

    def hello(self, hello: Hello) -> Outcome:
        self._hello = hello
        return Challenge("ticket", {})

    def authenticate(self, signature: str) -> Deferred[Outcome]:
        hello = self._hello
        assert hello is not None  # the session sends AUTHENTICATE only after our CHALLENGE
        client_id = hello.authextra.get("previous_session")
        if signature == "" and client_id is not None:
            outcome = defer.ensureDeferred(self._resume_only(hello, client_id))
        else:
            outcome = defer.ensureDeferred(self._with_token(hello, signature, client_id))
        return outcome.addErrback(_denied)

    async def _with_token(self, hello: Hello, token: str, client_id: object) -> Outcome:
        claims = read_token(self._secret, token, leeway=LEEWAY)
        if hello.authid is not None and hello.authid != claims.user:
            return Deny(DENIED, "authid does not match the token")
        previous = await self._previous(client_id, claims.user)
        # Spent last: a refused attempt leaves the token usable (say, without previous_session).
        if not await self._ledger.spend(claims.token_id, claims.expires_at + LEEWAY):
            return Deny(DENIED, "token already used")
        identity = Identity(claims.user, claims.grants, previous, info=claims.info)
        return browser(hello, "ticket", identity)

    async def _resume_only(self, hello: Hello, client_id: object) -> Outcome:
        record = await self._clients.find(client_id)
        if hello.authid is not None and hello.authid != record.user:
            return Deny(DENIED, "previous_session belongs to another user")
        identity = Identity(record.user, record.grants, record, extends=False, info=record.info)
        return browser(hello, "ticket", identity)

    async def _previous(self, client_id: object, user: str | None) -> ClientRecord | None:
        return None if client_id is None else await self._clients.claim(client_id, user)


def _denied(failure: Failure) -> Accept | Deny:
    """A token or a resume refused: ABORT with why (other failures pass on)."""
    failure.trap(TokenError, ResumeRefused)
    return Deny(DENIED, str(failure.value))
