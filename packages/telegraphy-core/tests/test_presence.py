"""Presence in the core: the info a token carries for the channels its user is present in
(bounded), and the webhooks the gateway sends, read as the adapters read them."""

from __future__ import annotations

import json

import pytest

from telegraphy.core import (
    MAX_PRESENCE_INFO,
    NonceCache,
    PresenceEvent,
    PresenceMember,
    SignatureError,
    mint_token,
    read_presence_webhook,
    read_token,
    sign_request,
)

SECRET = "presence-secret-0123456789"
NOW = 1_800_000_000.0


def test_a_token_carries_presence_info_that_fits() -> None:
    token = mint_token(SECRET, "7", ttl=60, now=NOW, info={"name": "Ann", "avatar": "/a/7.png"})
    assert read_token(SECRET, token, now=NOW).info == {"name": "Ann", "avatar": "/a/7.png"}
    assert read_token(SECRET, mint_token(SECRET, "7", now=NOW), now=NOW).info is None


@pytest.mark.parametrize("info", ["x" * MAX_PRESENCE_INFO, {"f": float("nan")}, {1, 2}])
def test_presence_info_that_is_too_big_or_not_json_is_refused_when_minted(info: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        mint_token(SECRET, "7", now=NOW, info=info)


def webhook(events: list[dict[str, object]], secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"events": events}).encode()
    return sign_request(secret, "POST", "/hooks/presence", body), body


def test_a_webhook_reads_as_events() -> None:
    member = {"client_id": "c1", "user": None, "info": None}
    headers, body = webhook(
        [
            {"name": "member_left", "channel": "chat.a", "time": 3, "member": member, "count": 0},
            {"name": "channel_vacated", "channel": "chat.a", "time": 3},
        ]
    )
    events = read_presence_webhook(SECRET, "/hooks/presence", headers, body, NonceCache())
    assert events == [
        PresenceEvent("member_left", "chat.a", 3.0, PresenceMember("c1"), 0),
        PresenceEvent("channel_vacated", "chat.a", 3.0),
    ]


def test_a_webhook_signed_otherwise_or_replayed_or_malformed_is_refused() -> None:
    nonces = NonceCache()
    headers, body = webhook([], secret="another-secret-0123456789")
    with pytest.raises(SignatureError, match="does not match"):
        read_presence_webhook(SECRET, "/hooks/presence", headers, body, nonces)
    headers, body = webhook([])
    with pytest.raises(SignatureError, match="does not match"):
        read_presence_webhook(SECRET, "/elsewhere", headers, body, nonces)
    read_presence_webhook(SECRET, "/hooks/presence", headers, body, nonces)
    with pytest.raises(SignatureError, match="used already"):
        read_presence_webhook(SECRET, "/hooks/presence", headers, body, nonces)
    headers, body = webhook([{"name": "member_renamed", "channel": "chat.a", "time": 1}])
    with pytest.raises(ValueError, match="not a presence webhook"):
        read_presence_webhook(SECRET, "/hooks/presence", headers, body, nonces)
