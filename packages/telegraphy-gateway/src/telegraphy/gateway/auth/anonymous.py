"""Anonymous authentication: the role `anonymous`, which may only read public topics.

An anonymous session gets a client id too, and may resume an anonymous client record by
naming it in HELLO.authextra.previous_session.
"""

from __future__ import annotations

from telegraphy.core import Grants

from . import DENIED, Accept, Challenge, Deny, Hello, browser
from .identity import ClientLookup, Identity, ResumeRefused


class AnonymousAuthenticator:
    def __init__(self, clients: ClientLookup) -> None:
        self._clients = clients

    def hello(self, hello: Hello) -> Accept | Deny | Challenge:
        previous = None
        client_id = hello.authextra.get("previous_session")
        if client_id is not None:
            try:
                previous = self._clients.claim(client_id, None)
            except ResumeRefused as e:
                return Deny(DENIED, str(e))
        return browser(hello, "anonymous", Identity(None, Grants(), previous, extends=False))

    def authenticate(self, signature: str) -> Accept | Deny:
        return Deny(DENIED, "anonymous authentication takes no AUTHENTICATE")
