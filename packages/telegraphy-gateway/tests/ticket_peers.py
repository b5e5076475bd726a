"""Peers for the token tests: a gateway configuration with a secret, tokens minted with it, and
raw WAMP sessions that join with the ticket method (so that every ABORT, WELCOME detail and
EVENT on the wire can be read)."""

from __future__ import annotations

from typing import Any

from conftest import BACKEND_ID, BACKEND_SECRET
from raw_wamp import ABORT, AUTHENTICATE, CHALLENGE, HELLO, WELCOME, WampPeer
from telegraphy.core import Grants, mint_token

SECRET = "token-secret-0123456789abcdef"
EVENTS = "telegraphy.event"
CHANNELS = "telegraphy.channel"
DENIED = "wamp.error.authentication_denied"
NOT_AUTHORIZED = "wamp.error.not_authorized"
ROLES: dict[str, Any] = {"subscriber": {}, "publisher": {}, "caller": {}}


def token_config(*top_level: str) -> str:
    """A gateway with the secret, public news events, one backend, and these top-level lines."""
    lines = "\n".join(top_level)
    return f"""
secret = "{SECRET}"
public = [{{ uri = "{EVENTS}.news.", match = "prefix" }}]
{lines}

[[backends]]
authid = "{BACKEND_ID}"
secret = "{BACKEND_SECRET}"

[limits]
hello_timeout = 2.0
shutdown_timeout = 2.0
"""


def token(
    user: str | None,
    *,
    events: tuple[str, ...] = (),
    channels: tuple[str, ...] = (),
    publish: tuple[str, ...] = (),
    ttl: float = 60,
    now: float | None = None,
    secret: str = SECRET,
) -> str:
    grants = Grants(subscribe_events=events, subscribe_channels=channels, publish_channels=publish)
    return mint_token(secret, user, grants, ttl, now)


class Refused(Exception):
    """The gateway answered the opening handshake with ABORT."""

    def __init__(self, reason: str, message: str, unread: int) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.unread = unread  # what arrived after the ABORT, before the connection closed


async def ticket_join(
    url: str,
    ticket: str | None,
    *,
    authid: str | None = None,
    previous: str | None = None,
    authmethods: tuple[str, ...] = ("ticket",),
    recover: dict[str, Any] | None = None,
) -> WampPeer:
    """A raw session joined with `ticket` ("" to resume `previous` without a token; None with
    authmethods ("anonymous",)), resuming with authextra.recover if given. Raises `Refused`
    (after the connection closed) on ABORT."""
    peer = await WampPeer.connect(url)
    details: dict[str, Any] = {"roles": ROLES, "authmethods": list(authmethods)}
    if authid is not None:
        details["authid"] = authid
    if previous is not None:
        details["authextra"] = {"previous_session": previous}
    if recover is not None:
        details.setdefault("authextra", {})["recover"] = recover
    peer.send(HELLO, "telegraphy", details)
    answer = await peer.receive()
    if answer[0] == CHALLENGE:
        assert answer[1:] == ["ticket", {}], answer
        peer.send(AUTHENTICATE, ticket, {})
        answer = await peer.receive()
    if answer[0] == ABORT:
        await peer.closed()
        raise Refused(answer[2], answer[1].get("message", ""), peer.unread)
    assert answer[0] == WELCOME, answer
    peer.id, peer.details = answer[1], answer[2]
    return peer


async def refusal(url: str, ticket: str | None, **kwargs: Any) -> str:
    """The ABORT message a ticket join gets (its reason must be authentication_denied)."""
    try:
        peer = await ticket_join(url, ticket, **kwargs)
    except Refused as e:
        assert e.reason == DENIED, e
        return e.message
    await peer.leave()
    raise AssertionError("the gateway welcomed a join it should have refused")
