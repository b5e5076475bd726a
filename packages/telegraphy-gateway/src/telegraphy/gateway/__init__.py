"""Telegraphy's gateway: a WAMP v2 router on Twisted and autobahn."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Backend, GatewayConfig, Limits, config_from_mapping, load_config
from .errors import ConfigError, GatewayError
from .run import CannotListen, serve
from .server import Gateway

__all__ = [
    "Backend",
    "CannotListen",
    "ConfigError",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "Limits",
    "__version__",
    "config_from_mapping",
    "load_config",
    "serve",
]
