"""Telegraphy's core: what the web app, the gateway and the browser agree on."""

from __future__ import annotations

__version__ = "0.1.0"

from ._envelope import Envelope, validate_envelope
from ._errors import ConfigurationError, EventError, SignatureError, TelegraphyError
from ._names import DEFAULT_REALM, DEFAULT_TOPIC_PREFIX, event_topic, validate_event_name
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

__all__ = [
    "ConfigurationError",
    "DEFAULT_REALM",
    "DEFAULT_TOPIC_PREFIX",
    "Envelope",
    "EventError",
    "NONCE_HEADER",
    "NonceCache",
    "SIGNATURE_HEADER",
    "Settings",
    "SignatureError",
    "TIMESTAMP_HEADER",
    "TelegraphyError",
    "__version__",
    "event_topic",
    "sign_request",
    "signature",
    "validate_envelope",
    "validate_event_name",
    "verify_request",
]
