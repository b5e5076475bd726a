"""WAMP-CRA: HMAC-SHA256 challenge-response for the backends listed in the configuration."""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import UTC, datetime

from autobahn.wamp.auth import compute_wcs

from ..config import Backend
from . import DENIED, Accept, Challenge, Deny, Hello


class WampCraAuthenticator:
    def __init__(self, backends: tuple[Backend, ...]) -> None:
        self._backends = {b.authid: b for b in backends}
        self._backend: Backend | None = None
        self._secret = ""
        self._challenge = ""

    def hello(self, hello: Hello) -> Accept | Deny | Challenge:
        if not hello.authid:
            return Deny(DENIED, "WAMP-CRA needs an authid in HELLO")
        self._backend = self._backends.get(hello.authid)
        # An unknown authid gets a challenge it cannot answer, and every challenge has the same
        # shape (no authrole, which would tell a configured backend apart), so that a client
        # cannot tell which authids exist.
        self._secret = self._backend.secret if self._backend else secrets.token_hex(32)
        self._challenge = json.dumps(
            {
                "authid": hello.authid,
                "authmethod": "wampcra",
                "authprovider": "static",
                "session": hello.session_id,
                "nonce": secrets.token_urlsafe(32),
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
        )
        return Challenge("wampcra", {"challenge": self._challenge})

    def authenticate(self, signature: str) -> Accept | Deny:
        expected = compute_wcs(self._secret, self._challenge)
        given = signature.encode("utf-8", "replace")
        if self._backend is None or not hmac.compare_digest(expected, given):
            return Deny(DENIED, "WAMP-CRA signature is invalid")
        return Accept(
            authid=self._backend.authid,
            authrole=self._backend.authrole,
            authmethod="wampcra",
        )
