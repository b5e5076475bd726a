"""Anonymous authentication: the role `anonymous`, which may only read public topics.

An anonymous session gets a client id too, and may resume an anonymous client record by
naming it in HELLO.authextra.previous_session.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from telegraphy.core import Grants

from ..engines.base import ClientRecord
from . import DENIED, Deny, Hello, Outcome, browser
from .identity import ClientLookup, Identity, ResumeRefused


class AnonymousAuthenticator:
    def __init__(self, clients: ClientLookup) -> None:
        self._clients = clients

    def hello(self, hello: Hello) -> Outcome | Deferred[Outcome]:
        client_id = hello.authextra.get("previous_session")
        if client_id is None:
            return self._accept(hello, None)
        accepted: Deferred[Outcome] = self._clients.claim(client_id, None).addCallback(
            lambda record: self._accept(hello, record)
        )
        return accepted.addErrback(_refused)

    @staticmethod
    def _accept(hello: Hello, previous: ClientRecord | None) -> Outcome:
        return browser(hello, "anonymous", Identity(None, Grants(), previous, extends=False))

    def authenticate(self, signature: str) -> Outcome:
        return Deny(DENIED, "anonymous authentication takes no AUTHENTICATE")


def _refused(failure: Failure) -> Outcome:
    failure.trap(ResumeRefused)
    return Deny(DENIED, str(failure.value))
