"""Shared configuration: what the web app needs to reach the gateway, validated once.

The same TOML file can configure both sides: the gateway reads its keys, the web app reads
these and ignores the gateway's.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._errors import ConfigurationError, EventError
from ._names import DEFAULT_REALM, DEFAULT_TOPIC_PREFIX, validate_event_name

ENV_PREFIX = "TELEGRAPHY_"
TRANSPORTS = ("http", "xmlrpc", "redis")
OVERFLOW_POLICIES = ("raise", "drop")
MIN_SECRET_LENGTH = 16
# Keys of a shared TOML file that belong to the gateway alone.
GATEWAY_ONLY_KEYS = frozenset(
    {
        "host",
        "port",
        "backends",
        "public",
        "limits",
        "log",
        "ingress",
        "client_ttl",
        "allowed_origins",
        "token_max_ttl",
        "persistent_ttl",
        "engine",
        "history",
        "trusted_proxies",
        "proxy_protocol",
        "metrics",
        "tls",
        "presence",
    }
)


@dataclass(frozen=True)
class Settings:
    """How a web app reaches its gateway. Only `secret` has no default."""

    secret: str
    gateway_url: str = "http://127.0.0.1:9000"
    realm: str = DEFAULT_REALM
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    transport: str = "http"
    timeout: float = 5.0
    batch_size: int = 100
    queue_size: int = 10_000
    spool_path: str | None = None
    spool_size: int = 1_000_000
    retry_max_delay: float = 30.0
    on_overflow: str = "raise"
    token_ttl: float = 60.0
    channel_prefix: str = "telegraphy.channel"
    render_gap_margin: float = 2.0
    # transport = "redis": the Redis server the gateways use as their engine, and its key
    # prefix (the password comes from TELEGRAPHY_REDIS_PASSWORD).
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "telegraphy:"

    def __post_init__(self) -> None:
        _validate(self)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'***' if f.name == 'secret' else repr(getattr(self, f.name))}"
            for f in fields(self)
        )
        return f"Settings({shown})"

    @property
    def websocket_url(self) -> str:
        """Where browsers connect: the gateway's WebSocket endpoint."""
        parts = urlsplit(self.gateway_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}/ws"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "settings") -> Settings:
        """From a dict of the field names above (Django settings, Flask config, TOML)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(
                f"{source}: unknown setting(s) {', '.join(unknown)}; known: "
                + ", ".join(sorted(known))
            )
        if "secret" not in data:
            raise ConfigurationError(f"{source}: secret is required (the gateway's shared secret)")
        try:
            return cls(**data)
        except ConfigurationError as e:
            raise ConfigurationError(f"{source}: {e}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """From `TELEGRAPHY_SECRET`, `TELEGRAPHY_GATEWAY_URL`, ... (numbers parsed)."""
        environ = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                data[f.name] = _parse_env(f.name, raw, str(f.type))
        return cls.from_mapping(data, source="environment")

    @classmethod
    def from_toml(cls, path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
        """From a TOML file; a gateway's `telegraphy.toml` works, its own keys are skipped.

        Without `gateway_url`, the gateway's `host` and `port` in the same file give it.
        Without `secret`, `TELEGRAPHY_SECRET` from the environment does, as for the gateway.
        """
        environ = os.environ if environ is None else environ
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except OSError as e:
            raise ConfigurationError(f"cannot read {path}: {e.strerror}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigurationError(f"{path} is not valid TOML: {e}") from e
        if "secret" not in data and environ.get(ENV_PREFIX + "SECRET"):
            data["secret"] = environ[ENV_PREFIX + "SECRET"]
        if "gateway_url" not in data and ("host" in data or "port" in data):
            data["gateway_url"] = f"http://{data.get('host', '127.0.0.1')}:{data.get('port', 9000)}"
        return cls.from_mapping(
            {k: v for k, v in data.items() if k not in GATEWAY_ONLY_KEYS}, source=str(path)
        )


def _parse_env(name: str, raw: str, kind: str) -> Any:
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        raise ConfigurationError(
            f"environment: {ENV_PREFIX}{name.upper()} must be a number, got {raw!r}"
        ) from None
    return raw or None if kind.startswith("str | None") else raw


def _validate(s: Settings) -> None:
    if not isinstance(s.secret, str) or len(s.secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"secret must be a string of at least {MIN_SECRET_LENGTH} characters, shared with "
            "the gateway; make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    url = urlsplit(s.gateway_url) if isinstance(s.gateway_url, str) else None
    if url is None or url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigurationError(
            f"gateway_url must be an http:// or https:// URL such as http://127.0.0.1:9000, "
            f"got {s.gateway_url!r}"
        )
    for name in ("realm", "topic_prefix", "channel_prefix"):
        try:
            validate_event_name(getattr(s, name))
        except EventError:
            raise ConfigurationError(
                f"{name} must be a dotted name such as 'telegraphy', got {getattr(s, name)!r}"
            ) from None
    _choice("transport", s.transport, TRANSPORTS)
    _choice("on_overflow", s.on_overflow, OVERFLOW_POLICIES)
    for name in (
        "timeout",
        "retry_max_delay",
        "batch_size",
        "queue_size",
        "spool_size",
        "token_ttl",
    ):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigurationError(f"{name} must be a positive number, got {value!r}")
    if s.spool_path is not None and not isinstance(s.spool_path, str):
        raise ConfigurationError(f"spool_path must be a file path, got {s.spool_path!r}")
    _margin(s.render_gap_margin)
    redis = urlsplit(s.redis_url) if isinstance(s.redis_url, str) else None
    if redis is None or redis.scheme not in ("redis", "rediss") or redis.password:
        raise ConfigurationError(
            "redis_url must be a redis:// or rediss:// URL without a password (set "
            f"TELEGRAPHY_REDIS_PASSWORD), got {s.redis_url!r}"
        )
    if not isinstance(s.redis_prefix, str) or not s.redis_prefix or " " in s.redis_prefix:
        raise ConfigurationError(
            f"redis_prefix must be a string without spaces, got {s.redis_prefix!r}"
        )


def _margin(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ConfigurationError(
            "render_gap_margin must be a number of seconds, 0 or more (how far the web "
            f"servers' clocks may be ahead of the gateway's), got {value!r}"
        )


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
