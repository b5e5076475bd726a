"""Telegraphy's gateway: a WAMP v2 router on Twisted and autobahn."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Backend, GatewayConfig, Limits, config_from_mapping, load_config  # noqa: E402
from .errors import ConfigError, GatewayError  # noqa: E402
from .server import Gateway  # noqa: E402

__all__ = [
    "Backend",
    "ConfigError",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "Limits",
    "__version__",
    "config_from_mapping",
    "load_config",
]
