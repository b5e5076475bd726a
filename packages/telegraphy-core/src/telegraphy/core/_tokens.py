"""Tokens: short-lived, signed statements of who a browser's user is and what they may see.

    token = "tg1." + b64url(payload) + "." + b64url(HMAC-SHA256(key, "tg1." + b64url(payload)))
    key   = HMAC-SHA256(secret, "telegraphy token v1")

The web app mints them with the shared secret, no round trip to the gateway; the gateway reads
them in the WAMP handshake (ticket method) and spends each one once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import EventError, FilterError, TokenError
from ._filters import F, canonical_filter, conjoin_filters
from ._names import DEFAULT_TOPIC_PREFIX, event_topic, validate_event_name

if TYPE_CHECKING:
    from ._settings import Settings

VERSION = "tg1"
DEFAULT_CHANNEL_PREFIX = "telegraphy.channel"
DEFAULT_TOKEN_TTL = 60.0
_KEY_LABEL = b"telegraphy token v1"
_MAX_TOKEN_LENGTH = 16 * 1024
MAX_PRESENCE_INFO = 1024
"""Bytes a token's presence `info` may take as compact JSON (docs/presence.rst)."""


@dataclass(frozen=True)
class Grants:
    """What a token allows beyond the public events: event names and channel names/patterns.

    A channel entry is a channel name (`chat.room-1`) or a pattern ending in `.*`
    (`chat.*`: every channel under `chat.`). `filters` maps an event name to the filter the
    gateway ANDs with every subscription to it (docs/filters.rst); kept in canonical form.
    """

    subscribe_events: tuple[str, ...] = ()
    subscribe_channels: tuple[str, ...] = ()
    publish_channels: tuple[str, ...] = ()
    filters: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        for event in self.subscribe_events:
            validate_event_name(event)
        for spec in (*self.subscribe_channels, *self.publish_channels):
            validate_event_name(spec.removesuffix(".*"))
        filters = {validate_event_name(n): canonical_filter(f) for n, f in self.filters.items()}
        # A filter that lets everything through is no filter.
        object.__setattr__(self, "filters", {n: f for n, f in filters.items() if f is not None})


@dataclass(frozen=True)
class TokenClaims:
    user: str | None
    grants: Grants
    issued_at: int
    expires_at: int
    token_id: str
    info: Any = None  # shown to the channels the user is present in (docs/presence.rst)


def mint_token(
    secret: str,
    user: str | None,
    grants: Grants = Grants(),
    ttl: float = DEFAULT_TOKEN_TTL,
    now: float | None = None,
    info: Any = None,
) -> str:
    """A token for `user` (None: an anonymous visitor) valid for `ttl` seconds; `info` (JSON,
    at most MAX_PRESENCE_INFO bytes) is what channel members see of the user."""
    if user is not None and (not isinstance(user, str) or not user):
        raise TypeError("user must be a non-empty string (the user's id) or None")
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "sub": user,
        "iat": issued,
        "exp": issued + max(1, int(ttl)),
        "jti": secrets.token_urlsafe(16),
        "sub_events": list(grants.subscribe_events),
        "sub_channels": list(grants.subscribe_channels),
        "pub_channels": list(grants.publish_channels),
    }
    if grants.filters:
        payload["filters"] = dict(grants.filters)
    if info is not None:
        payload["info"] = presence_info(info)
    body = f"{VERSION}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
    return f"{body}.{_b64(_mac(secret, body))}"


def read_token(
    secret: str, token: str, now: float | None = None, leeway: float = 5.0
) -> TokenClaims:
    """The claims of a genuine, current token; else `TokenError` with a code saying why."""
    # A token is ASCII by construction: anything else is malformed, never an encoding error.
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
        raise TokenError("malformed", "invalid token")
    version, _, rest = token.partition(".")
    encoded, _, mac = rest.partition(".")
    if version != VERSION or not encoded or not mac:
        raise TokenError("malformed", "invalid token")
    expected = _b64(_mac(secret, f"{version}.{encoded}"))
    if not hmac.compare_digest(expected.encode(), mac.encode("ascii", "replace")):
        raise TokenError("bad_signature", "invalid token")
    claims = _claims(encoded)
    moment = time.time() if now is None else now
    if claims.expires_at + leeway < moment:
        raise TokenError("expired", "token expired")
    if claims.issued_at - leeway > moment:
        raise TokenError("not_yet_valid", "token not yet valid: check the clocks")
    return claims


def channel_topic(name: str, prefix: str = DEFAULT_CHANNEL_PREFIX) -> str:
    """The WAMP topic of a channel: `<prefix>.<name>`."""
    return f"{prefix}.{validate_event_name(name)}"


def envelope_topic(
    envelope: Mapping[str, Any],
    topic_prefix: str = DEFAULT_TOPIC_PREFIX,
    channel_prefix: str = DEFAULT_CHANNEL_PREFIX,
) -> str:
    """The topic an event envelope is published on: its channel's (`meta.channel`) if it names
    one, else its event name's."""
    channel = envelope["meta"].get("channel")
    if channel is None:
        return event_topic(envelope["name"], topic_prefix)
    return channel_topic(channel, channel_prefix)


def grant_pattern(spec: str, prefix: str = DEFAULT_CHANNEL_PREFIX) -> tuple[str, str]:
    """A channel grant as a WAMP (uri, match): `chat.*` is a prefix, anything else exact."""
    if spec.endswith(".*"):
        return f"{channel_topic(spec[:-2], prefix)}.", "prefix"
    return channel_topic(spec, prefix), "exact"


def user_channel(user: str) -> str:
    """The channel every user may read: `user.<id>`."""
    return f"user.{user}"


class EventDefinition(Protocol):
    """What `grants_for` needs of an event class: Django's and Flask's have both."""

    name: str

    def is_authorized_user(self, user: Any) -> bool: ...


def grants_for(
    user: Any,
    definitions: Iterable[EventDefinition],
    subscribe_channels: Iterable[str] = (),
    publish_channels: Iterable[str] = (),
) -> Grants:
    """The grants of `user`: each event whose `is_authorized_user(user)` says yes, with the
    filter its `filter_for_user(user)` returns, if any."""
    authorized = [d for d in definitions if d.is_authorized_user(user)]
    filters = {d.name: f for d in authorized if (f := _filter_for(d, user)) is not None}
    return Grants(
        subscribe_events=tuple(sorted({d.name for d in authorized})),
        subscribe_channels=tuple(subscribe_channels),
        publish_channels=tuple(publish_channels),
        filters=filters,
    )


def _filter_for(definition: EventDefinition, user: Any) -> F | Mapping[str, Any] | None:
    """The definition's `filter_for_user(user)`, for the definitions that have one, ANDed with
    its `fragment_filter(user)` (which fragment audience `user` receives)."""
    hook = getattr(definition, "filter_for_user", None)
    own = hook(user) if callable(hook) else None
    audience = getattr(definition, "fragment_filter", None)
    extra = audience(user) if callable(audience) else None
    if extra is None or own is None:
        return own if extra is None else extra
    return conjoin_filters(canonical_filter(own), canonical_filter(extra))


def get_token(
    user: str | None,
    grants: Grants = Grants(),
    ttl: float | None = None,
    settings: Settings | None = None,
    info: Any = None,
) -> str:
    """The original Telegraphy API's `get_token`: a token minted with the configured
    (default) settings."""
    if settings is None:
        from ._publisher import get_publisher

        settings = get_publisher().settings
    ttl = settings.token_ttl if ttl is None else ttl
    return mint_token(settings.secret, user, grants, ttl, info=info)


def _mac(secret: str, text: str) -> bytes:
    key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _claims(encoded: str) -> TokenClaims:
    try:
        payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        grants = Grants(
            subscribe_events=_strings(payload, "sub_events"),
            subscribe_channels=_strings(payload, "sub_channels"),
            publish_channels=_strings(payload, "pub_channels"),
            filters=_filters(payload),
        )
        user, issued, expires, token_id = (payload[k] for k in ("sub", "iat", "exp", "jti"))
        info = None if payload.get("info") is None else presence_info(payload["info"])
    except (ValueError, TypeError, KeyError, AttributeError, EventError, FilterError) as e:
        raise TokenError("malformed", "invalid token") from e
    if not (user is None or isinstance(user, str)) or not isinstance(token_id, str):
        raise TokenError("malformed", "invalid token")
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in (issued, expires)):
        raise TokenError("malformed", "invalid token")
    return TokenClaims(user, grants, issued, expires, token_id, info)


def presence_info(info: Any) -> Any:
    """`info` if it is JSON of at most MAX_PRESENCE_INFO bytes, else ValueError/TypeError."""
    size = len(json.dumps(info, separators=(",", ":"), allow_nan=False).encode())
    if size > MAX_PRESENCE_INFO:
        raise ValueError(f"presence info takes {size} bytes as JSON; at most {MAX_PRESENCE_INFO}")
    return info


def _filters(payload: dict[str, Any]) -> dict[str, Any]:
    filters = payload.get("filters", {})
    if not isinstance(filters, dict):
        raise TypeError("filters must be an object")
    return filters


def _strings(payload: dict[str, Any], key: str) -> tuple[str, ...]:
    values = payload.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise TypeError(f"{key} must be a list of strings")
    return tuple(values)
