"""Signed requests: the signature recipe, and every way a request is refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from telegraphy.core import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    NonceCache,
    SignatureError,
    sign_request,
    signature,
    verify_request,
)

SECRET = "a-shared-secret-of-some-length"
BODY = b'{"events": []}'
NOW = 1_800_000_000.0


def signed(**overrides: str) -> dict[str, str]:
    headers = sign_request(SECRET, "POST", "/ingress/events", BODY, now=NOW)
    headers.update(overrides)
    return headers


def refusal(headers: dict[str, str], *, body: bytes = BODY, now: float = NOW, **kw: object) -> str:
    with pytest.raises(SignatureError) as raised:
        verify_request(
            kw.get("secret", SECRET),  # type: ignore[arg-type]
            "POST",
            kw.get("path", "/ingress/events"),  # type: ignore[arg-type]
            headers,
            body,
            kw.get("nonces", NonceCache()),  # type: ignore[arg-type]
            now=now,
        )
    return raised.value.code


def test_signature_is_hmac_sha256_over_the_five_parts() -> None:
    expected = hmac.new(
        SECRET.encode(), b"POST\n/ingress/events\n1800000000\nabc\n" + BODY, hashlib.sha256
    ).hexdigest()
    assert signature(SECRET, "post", "/ingress/events", "1800000000", "abc", BODY) == expected


def test_a_signed_request_is_accepted_once() -> None:
    nonces = NonceCache()
    headers = signed()
    verify_request(SECRET, "POST", "/ingress/events", headers, BODY, nonces, now=NOW + 5)
    assert refusal(headers, nonces=nonces, now=NOW + 6) == "replayed_nonce"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"secret": "another-secret-entirely"}, "bad_signature"),
        ({"path": "/ingress/event"}, "bad_signature"),
        ({"body": BODY + b" "}, "bad_signature"),
        ({"now": NOW + 61}, "stale_timestamp"),
        ({"now": NOW - 61}, "stale_timestamp"),
    ],
)
def test_any_change_or_a_stale_clock_is_refused(change: dict[str, object], code: str) -> None:
    assert refusal(signed(), **change) == code  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({SIGNATURE_HEADER: ""}, "missing_signature"),
        ({NONCE_HEADER: ""}, "missing_signature"),
        ({TIMESTAMP_HEADER: "soon"}, "malformed_signature"),
        ({NONCE_HEADER: "short"}, "malformed_signature"),
        ({NONCE_HEADER: "has spaces in it, not allowed"}, "malformed_signature"),
        ({SIGNATURE_HEADER: "v2=" + "0" * 64}, "bad_signature"),
        ({SIGNATURE_HEADER: "v1=" + "0" * 64}, "bad_signature"),
    ],
)
def test_missing_or_malformed_headers_are_refused(headers: dict[str, str], code: str) -> None:
    assert refusal(signed(**headers)) == code


def test_a_forged_request_does_not_use_up_its_nonce() -> None:
    nonces = NonceCache()
    genuine = signed()
    forged = {**genuine, SIGNATURE_HEADER: "v1=" + "f" * 64}
    assert refusal(forged, nonces=nonces) == "bad_signature"
    verify_request(SECRET, "POST", "/ingress/events", genuine, BODY, nonces, now=NOW)


def test_nonce_cache_forgets_only_what_can_no_longer_be_replayed() -> None:
    nonces = NonceCache(window=60, capacity=2)
    nonces.use("n1", NOW)
    nonces.use("n2", NOW + 1)
    with pytest.raises(SignatureError) as full:
        nonces.use("n3", NOW + 2)
    assert full.value.code == "busy"
    nonces.use("n3", NOW + 121)  # n1 is older than twice the window: forgotten
    with pytest.raises(SignatureError) as replay:
        nonces.use("n2", NOW + 121)
    assert replay.value.code == "replayed_nonce"
