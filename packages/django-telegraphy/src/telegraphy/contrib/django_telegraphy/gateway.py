"""The embedded gateway's configuration, made from settings.TELEGRAPHY (for run_telegraph).

Kept apart from the command so that it can be checked without starting anything; the gateway
package itself is imported only by the command.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from telegraphy.core import event_topic, grant_pattern

from .conf import AppSettings
from .events import registered_channels, registered_events


def public_patterns(app: AppSettings) -> list[dict[str, str]]:
    """Topics anonymous sessions may subscribe to: the events and channels marked public."""
    patterns = [
        {"uri": event_topic(d.name, app.core.topic_prefix), "match": "exact"}
        for d in registered_events()
        if d.public
    ]
    for channel in registered_channels():
        if channel.public:
            uri, match = grant_pattern(channel.name, app.core.channel_prefix)
            patterns.append({"uri": uri, "match": match})
    return patterns


def gateway_mapping(
    app: AppSettings, host: str | None = None, port: int | None = None
) -> dict[str, Any]:
    """The gateway's configuration (the TOML keys) for these settings.

    Host and port come from GATEWAY_URL unless given; `GATEWAY` adds any other gateway key
    (its `public` list is added to the computed one).
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
        "public": public_patterns(app) + list(extra.get("public", [])),
    }
