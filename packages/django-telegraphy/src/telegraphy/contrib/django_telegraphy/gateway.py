"""The embedded gateway's configuration, made from settings.TELEGRAPHY (for run_telegraph).

Kept apart from the command so that it can be checked without starting anything; the gateway
package itself is imported only by the command.
"""

from __future__ import annotations

from typing import Any

from telegraphy.core import gateway_mapping as core_gateway_mapping

from .conf import AppSettings
from .events import registry


def public_patterns(app: AppSettings) -> list[dict[str, str]]:
    """Topics anonymous sessions may subscribe to: the events and channels marked public."""
    return registry.public_patterns(app.core)


def gateway_mapping(
    app: AppSettings, host: str | None = None, port: int | None = None
) -> dict[str, Any]:
    """The gateway's configuration (the TOML keys) for these settings.

    Host and port come from GATEWAY_URL unless given; `GATEWAY` adds any other gateway key
    (its `public` list is added to the computed one).
    """
    return core_gateway_mapping(app, public_patterns(app), host, port)
