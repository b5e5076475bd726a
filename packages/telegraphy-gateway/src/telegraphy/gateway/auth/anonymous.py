"""Anonymous authentication: the role `anonymous`, which may only read public topics."""

from __future__ import annotations

from . import DENIED, Accept, Challenge, Deny, Hello

ANONYMOUS_ROLE = "anonymous"


class AnonymousAuthenticator:
    def hello(self, hello: Hello) -> Accept | Deny | Challenge:
        return Accept(
            authid=f"anonymous-{hello.session_id}",
            authrole=ANONYMOUS_ROLE,
            authmethod="anonymous",
        )

    def authenticate(self, signature: str) -> Accept | Deny:
        return Deny(DENIED, "anonymous authentication takes no AUTHENTICATE")
