"""Tokens: the format byte by byte, and every way one is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import pytest

from telegraphy.core import (
    EventError,
    Grants,
    Settings,
    TokenError,
    channel_topic,
    get_token,
    grant_pattern,
    grants_for,
    mint_token,
    read_token,
    user_channel,
)

SECRET = "token-secret-0123456789"
NOW = 1_800_000_000.0
GRANTS = Grants(("shop.Order",), ("chat.room-1", "news.*"), ("chat.room-1",))


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_format_is_what_the_docs_say() -> None:
    token = mint_token(SECRET, "42", GRANTS, ttl=60, now=NOW)
    version, payload, mac = token.split(".")
    key = hmac.new(SECRET.encode(), b"telegraphy token v1", hashlib.sha256).digest()
    expected = hmac.new(key, f"tg1.{payload}".encode(), hashlib.sha256).digest()
    assert version == "tg1" and b64decode(mac) == expected
    claims = json.loads(b64decode(payload))
    assert claims == {
        "sub": "42",
        "iat": 1_800_000_000,
        "exp": 1_800_000_060,
        "jti": claims["jti"],
        "sub_events": ["shop.Order"],
        "sub_channels": ["chat.room-1", "news.*"],
        "pub_channels": ["chat.room-1"],
    }
    assert len(claims["jti"]) >= 22 and "=" not in token


def test_a_genuine_token_reads_back() -> None:
    claims = read_token(SECRET, mint_token(SECRET, "42", GRANTS, now=NOW), now=NOW + 30)
    assert (claims.user, claims.grants, claims.issued_at, claims.expires_at) == (
        "42",
        GRANTS,
        1_800_000_000,
        1_800_000_060,
    )
    anonymous = read_token(SECRET, mint_token(SECRET, None, now=NOW), now=NOW)
    assert anonymous.user is None and anonymous.grants == Grants()


def test_each_token_has_its_own_id() -> None:
    ids = {
        read_token(SECRET, mint_token(SECRET, "1", now=NOW), now=NOW).token_id for _ in range(50)
    }
    assert len(ids) == 50


def forge(token: str, **changes: Any) -> str:
    version, payload, mac = token.split(".")
    claims = {**json.loads(b64decode(payload)), **changes}
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{version}.{encoded}.{mac}"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "malformed"),
        ("tg1.only-two-parts", "malformed"),
        ("tg2.abc.def", "malformed"),
        (mint_token(SECRET, "42", now=NOW)[:-2], "bad_signature"),
        (mint_token("another-secret-entirely", "42", now=NOW), "bad_signature"),
        (forge(mint_token(SECRET, "42", now=NOW), sub="1"), "bad_signature"),
        (forge(mint_token(SECRET, "42", now=NOW), sub_events=["admin.Secrets"]), "bad_signature"),
        ("tg1." + "A" * 20000 + ".x", "malformed"),
        ("tg1.é.ü", "malformed"),
    ],
)
def test_forged_or_malformed_tokens_are_refused(token: str, code: str) -> None:
    with pytest.raises(TokenError) as raised:
        read_token(SECRET, token, now=NOW)
    assert raised.value.code == code and str(raised.value) == "invalid token"


def test_time_bounds_with_leeway() -> None:
    token = mint_token(SECRET, "42", ttl=60, now=NOW)
    read_token(SECRET, token, now=NOW + 64)  # within the 5 s leeway
    with pytest.raises(TokenError, match="token expired") as expired:
        read_token(SECRET, token, now=NOW + 66)
    assert expired.value.code == "expired"
    with pytest.raises(TokenError) as early:
        read_token(SECRET, token, now=NOW - 10)
    assert early.value.code == "not_yet_valid"


def test_a_signed_but_ill_typed_payload_is_malformed() -> None:
    body = base64.urlsafe_b64encode(b'{"sub": 42, "iat": 1, "exp": 2, "jti": "x"}')
    text = "tg1." + body.rstrip(b"=").decode()
    key = hmac.new(SECRET.encode(), b"telegraphy token v1", hashlib.sha256).digest()
    mac = base64.urlsafe_b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest())
    with pytest.raises(TokenError) as raised:
        read_token(SECRET, f"{text}.{mac.rstrip(b'=').decode()}", now=1)
    assert raised.value.code == "malformed"


def test_channels_topics_and_patterns() -> None:
    assert channel_topic("chat.room-1") == "telegraphy.channel.chat.room-1"
    assert grant_pattern("chat.*") == ("telegraphy.channel.chat.", "prefix")
    assert grant_pattern("chat.room-1", "rt.ch") == ("rt.ch.chat.room-1", "exact")
    assert user_channel("42") == "user.42"
    with pytest.raises(EventError):
        Grants(subscribe_channels=("bad channel",))


@dataclass
class Definition:
    name: str
    staff_only: bool

    def is_authorized_user(self, user: Any) -> bool:
        return not self.staff_only or user == "staff"


def test_grants_follow_is_authorized_user() -> None:
    definitions = [Definition("shop.Order", False), Definition("shop.Payroll", True)]
    assert grants_for("visitor", definitions).subscribe_events == ("shop.Order",)
    assert grants_for("staff", definitions, publish_channels=["chat.1"]) == Grants(
        ("shop.Order", "shop.Payroll"), (), ("chat.1",)
    )


def test_get_token_uses_the_given_settings() -> None:
    settings = Settings(secret=SECRET, token_ttl=5)
    claims = read_token(SECRET, get_token("7", settings=settings))
    assert claims.user == "7" and claims.expires_at - claims.issued_at == 5
