"""Signed ingress requests: HMAC-SHA256 over method, path, timestamp, nonce and body.

The string signed is the five parts joined by newlines, the body last and as sent:

    POST\n/ingress/events\n1795237753\n3f1c...e9\n{"events": [...]}

and the signature travels as `X-Telegraphy-Signature: v1=<hex digest>`, next to
`X-Telegraphy-Timestamp` (Unix seconds) and `X-Telegraphy-Nonce` (16 to 64 URL-safe characters).
A request is accepted once, within `window` seconds of the receiver's clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping

from ._errors import SignatureError

TIMESTAMP_HEADER = "X-Telegraphy-Timestamp"
NONCE_HEADER = "X-Telegraphy-Nonce"
SIGNATURE_HEADER = "X-Telegraphy-Signature"
SCHEME = "v1"
DEFAULT_WINDOW = 60.0

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of the request parts under `secret`."""
    signed = "\n".join((method.upper(), path, timestamp, nonce)).encode() + b"\n" + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_request(
    secret: str, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The headers that sign a request, with a fresh nonce and the current time."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    digest = signature(secret, method, path, timestamp, nonce, body)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: f"{SCHEME}={digest}",
    }


ENTRY_METHOD = "XADD"
"""What a signed Redis stream entry is signed as (`sign_entry`), in place of an HTTP method."""


def sign_entry(secret: str, stream: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The fields that sign an entry added to the Redis stream `stream`: as a request, with the
    stream's name for a path (docs/security.rst)."""
    headers = sign_request(secret, ENTRY_METHOD, stream, body, now)
    return {
        "timestamp": headers[TIMESTAMP_HEADER],
        "nonce": headers[NONCE_HEADER],
        "signature": headers[SIGNATURE_HEADER],
    }


def entry_signed(secret: str, stream: str, fields: Mapping[str, str], body: bytes) -> bool:
    """Whether `fields` sign `body` as an entry of `stream` under `secret` (constant time).
    No time window: an entry may wait in Redis for as long as every gateway is down."""
    given = fields.get("signature", "")
    scheme, _, digest = given.partition("=")
    timestamp, nonce = fields.get("timestamp", ""), fields.get("nonce", "")
    if scheme != SCHEME or not _TIMESTAMP.match(timestamp) or not _NONCE.match(nonce):
        return False
    expected = signature(secret, ENTRY_METHOD, stream, timestamp, nonce, body)
    return hmac.compare_digest(expected, digest)


class NonceCache:
    """Nonces seen while a request carrying them could still be replayed, each usable once.

    A nonce is kept for twice the window (a timestamp may lead or lag the clock by a window).
    Bounded: when full of nonces still in that span, new requests are refused rather than an
    old nonce forgotten, which would let its request be replayed.
    """

    def __init__(self, window: float = DEFAULT_WINDOW, capacity: int = 1_000_000) -> None:
        self._window = window
        self._capacity = capacity
        self._seen: OrderedDict[str, float] = OrderedDict()

    def use(self, nonce: str, now: float) -> None:
        """Record `nonce`, or raise `SignatureError` if it was used or the cache is full."""
        horizon = now - 2 * self._window
        while self._seen and next(iter(self._seen.values())) < horizon:
            self._seen.popitem(last=False)
        if nonce in self._seen:
            raise SignatureError("replayed_nonce", "this nonce was used already")
        if len(self._seen) >= self._capacity:
            raise SignatureError("busy", "too many signed requests in the window; retry later")
        self._seen[nonce] = now


def verify_request(
    secret: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    nonces: NonceCache,
    window: float = DEFAULT_WINDOW,
    now: float | None = None,
) -> None:
    """Accept a signed request or raise `SignatureError` with a code saying why not.

    `headers` must be looked up case-insensitively by the caller's mapping, or given with the
    exact names above.
    """
    now = time.time() if now is None else now
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not (timestamp and nonce and given):
        raise SignatureError(
            "missing_signature",
            f"sign the request: {TIMESTAMP_HEADER}, {NONCE_HEADER} and {SIGNATURE_HEADER}",
        )
    if not _TIMESTAMP.match(timestamp) or not _NONCE.match(nonce):
        raise SignatureError(
            "malformed_signature",
            f"{TIMESTAMP_HEADER} must be Unix seconds and {NONCE_HEADER} 16 to 64 "
            "characters of A-Z, a-z, 0-9, '-' or '_'",
        )
    scheme, _, digest = given.partition("=")
    expected = signature(secret, method, path, timestamp, nonce, body)
    if scheme != SCHEME or not hmac.compare_digest(digest.encode(), expected.encode()):
        raise SignatureError("bad_signature", "the signature does not match the request")
    if abs(now - int(timestamp)) > window:
        raise SignatureError(
            "stale_timestamp",
            f"the timestamp is more than {window:g} s away from the gateway's clock",
        )
    nonces.use(nonce, now)
