"""Telegraphy's core: what the web app, the gateway and the browser agree on."""

from __future__ import annotations

__version__ = "0.1.0"

from ._envelope import Envelope, validate_envelope
from ._errors import (
    ConfigurationError,
    EventError,
    PublisherClosed,
    PublisherOverflow,
    RejectedError,
    SignatureError,
    TelegraphyError,
    TokenError,
    TransportError,
)
from ._event import Event, Sender
from ._jsonsafe import to_json_safe
from ._names import DEFAULT_REALM, DEFAULT_TOPIC_PREFIX, event_topic, validate_event_name
from ._publisher import Publisher, Stats, configure, get_publisher
from ._settings import Settings
from ._signing import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    NonceCache,
    sign_request,
    signature,
    verify_request,
)
from ._tokens import (
    DEFAULT_CHANNEL_PREFIX,
    Grants,
    TokenClaims,
    channel_topic,
    get_token,
    grant_pattern,
    grants_for,
    mint_token,
    read_token,
    user_channel,
)

__all__ = [
    "ConfigurationError",
    "DEFAULT_CHANNEL_PREFIX",
    "DEFAULT_REALM",
    "DEFAULT_TOPIC_PREFIX",
    "Envelope",
    "Event",
    "EventError",
    "Grants",
    "NONCE_HEADER",
    "NonceCache",
    "Publisher",
    "PublisherClosed",
    "PublisherOverflow",
    "RejectedError",
    "SIGNATURE_HEADER",
    "Sender",
    "Settings",
    "SignatureError",
    "Stats",
    "TIMESTAMP_HEADER",
    "TelegraphyError",
    "TokenClaims",
    "TokenError",
    "TransportError",
    "__version__",
    "channel_topic",
    "configure",
    "event_topic",
    "get_publisher",
    "get_token",
    "grant_pattern",
    "grants_for",
    "mint_token",
    "read_token",
    "sign_request",
    "signature",
    "to_json_safe",
    "user_channel",
    "validate_envelope",
    "validate_event_name",
    "verify_request",
]
