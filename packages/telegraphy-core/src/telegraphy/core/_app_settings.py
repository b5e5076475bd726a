"""What a web adapter runs with beyond the core settings, and the embedded gateway's keys.

Django's `settings.TELEGRAPHY` and Flask's `TELEGRAPHY_*` keys are translated into an
`AppSettings` by their adapter; what is checked and computed from it is the same for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._errors import ConfigurationError
from ._outbox import OutboxSettings
from ._settings import Settings


@dataclass(frozen=True)
class AppSettings:
    """The core settings plus the keys every web adapter has."""

    core: Settings
    enabled: bool = True
    websocket_url: str | None = None
    gateway: Mapping[str, Any] = field(default_factory=dict)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)

    @property
    def browser_url(self) -> str:
        """Where browsers open their WebSocket (the gateway's /ws unless WEBSOCKET_URL says)."""
        return self.websocket_url or self.core.websocket_url


def websocket_url_setting(value: Any, key: str) -> str | None:
    """`value` as the browsers' WebSocket URL (None: the gateway's); `key` names it in errors."""
    if value is not None and not (isinstance(value, str) and value.startswith(("ws://", "wss://"))):
        raise ConfigurationError(f"{key} must start with ws:// or wss://, got {value!r}")
    return value


def gateway_setting(value: Any, key: str) -> dict[str, Any]:
    """`value` as extra gateway configuration keys; `key` names it in errors."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{key} must be a dict of gateway configuration keys, got {value!r}"
        )
    return dict(value)


def gateway_mapping(
    app: AppSettings,
    public: Iterable[Mapping[str, str]],
    host: str | None = None,
    port: int | None = None,
) -> dict[str, Any]:
    """The embedded gateway's configuration (its TOML keys) for these settings.

    Host and port come from the gateway URL unless given; `app.gateway` adds any other gateway
    key (its `public` list is added to `public`, the patterns computed from the definitions).
    """
    url = urlsplit(app.core.gateway_url)
    extra = dict(app.gateway)
    return {
        **extra,
        "realm": app.core.realm,
        "secret": app.core.secret,
        "topic_prefix": app.core.topic_prefix,
        "channel_prefix": app.core.channel_prefix,
        "host": host or url.hostname,
        "port": port if port is not None else url.port or (443 if url.scheme == "https" else 80),
        "public": [*public, *extra.get("public", [])],
    }
