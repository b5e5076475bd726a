"""Telegraphy's core: what the web app, the gateway and the browser agree on."""

from __future__ import annotations

__version__ = "0.1.0"

from ._app_settings import AppSettings, gateway_mapping, gateway_setting, websocket_url_setting
from ._definitions import (
    OP_CREATE,
    OP_DELETE,
    OP_UPDATE,
    OPERATIONS,
    ChannelDefinition,
    CustomDefinition,
    Definition,
    Registry,
    operations_problem,
)
from ._envelope import Envelope, to_channel, validate_envelope
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
from ._event import Event, EventRecorder, Sender
from ._jsonsafe import to_json_safe
from ._names import DEFAULT_REALM, DEFAULT_TOPIC_PREFIX, event_topic, validate_event_name
from ._page import config_html, page_config, page_token, scripts_html
from ._publisher import Publisher, Stats, configure, get_publisher
from ._settings import Settings
from ._setup_check import SetupFinding, check_secret, check_setup
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
    envelope_topic,
    get_token,
    grant_pattern,
    grants_for,
    mint_token,
    read_token,
    user_channel,
)

__all__ = [
    "AppSettings",
    "ChannelDefinition",
    "ConfigurationError",
    "CustomDefinition",
    "DEFAULT_CHANNEL_PREFIX",
    "DEFAULT_REALM",
    "DEFAULT_TOPIC_PREFIX",
    "Definition",
    "Envelope",
    "Event",
    "EventError",
    "EventRecorder",
    "Grants",
    "NONCE_HEADER",
    "NonceCache",
    "OPERATIONS",
    "OP_CREATE",
    "OP_DELETE",
    "OP_UPDATE",
    "Publisher",
    "PublisherClosed",
    "PublisherOverflow",
    "Registry",
    "RejectedError",
    "SIGNATURE_HEADER",
    "Sender",
    "Settings",
    "SetupFinding",
    "SignatureError",
    "Stats",
    "TIMESTAMP_HEADER",
    "TelegraphyError",
    "TokenClaims",
    "TokenError",
    "TransportError",
    "__version__",
    "channel_topic",
    "check_secret",
    "check_setup",
    "config_html",
    "configure",
    "envelope_topic",
    "event_topic",
    "gateway_mapping",
    "gateway_setting",
    "get_publisher",
    "get_token",
    "grant_pattern",
    "grants_for",
    "mint_token",
    "operations_problem",
    "page_config",
    "page_token",
    "read_token",
    "scripts_html",
    "sign_request",
    "signature",
    "to_channel",
    "to_json_safe",
    "user_channel",
    "validate_envelope",
    "validate_event_name",
    "verify_request",
    "websocket_url_setting",
]
