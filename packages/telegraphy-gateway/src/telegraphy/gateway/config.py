"""The gateway's configuration: frozen dataclasses, read from TOML and validated once at start."""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from telegraphy.core import DEFAULT_TOPIC_PREFIX, EventError, Settings, validate_event_name

from .engines.base import HistoryPolicy
from .errors import ConfigError
from .router.uri import MATCH_POLICIES, RESERVED, Pattern, validate_pattern
from .transport.limits import parse_networks
from .transport.origins import LOOPBACK_ORIGINS, parse_allowed_origin

DEFAULT_REALM = "telegraphy"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
SECRET_ENV = "TELEGRAPHY_SECRET"
METRICS_TOKEN_ENV = "TELEGRAPHY_METRICS_TOKEN"
MIN_SECRET_LENGTH = 16
DEFAULT_CHANNEL_PREFIX = "telegraphy.channel"
DEFAULT_CLIENT_TTL = 900.0
DEFAULT_TOKEN_MAX_TTL = 3600.0
DEFAULT_PERSISTENT_TTL = 86400.0
DEFAULT_ENGINE_PATH = "telegraphy-gateway.sqlite3"
ENGINE_KINDS = ("sqlite", "memory", "redis")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_REDIS_PREFIX = "telegraphy:"
REDIS_PASSWORD_ENV = "TELEGRAPHY_REDIS_PASSWORD"
# Roles the gateway gives browser sessions itself; a backend may not take one of them.
BROWSER_ROLES = ("anonymous", "user")


@dataclass(frozen=True)
class Backend:
    """A backend program that authenticates with WAMP-CRA and may do anything."""

    authid: str
    secret: str = field(repr=False)
    authrole: str = "backend"


@dataclass(frozen=True)
class Limits:
    """Per-session and per-message limits, all with safe defaults."""

    max_message_size: int = 1024 * 1024
    max_subscriptions_per_session: int = 1000
    max_registrations_per_session: int = 100
    max_pending_calls_per_session: int = 100
    max_output_buffer: int = 4 * 1024 * 1024
    hello_timeout: float = 10.0
    shutdown_timeout: float = 5.0
    auto_ping_interval: float = 30.0
    auto_ping_timeout: float = 10.0
    # Per client address (behind trusted_proxies, the forwarded one); see transport/limits.py.
    max_connections_per_ip: int = 1000
    max_handshakes_per_second: float = 100.0
    max_ingress_requests_per_second: float = 1000.0
    # Per browser session (and any session still joining); backends are not limited.
    max_messages_per_second: float = 1000.0
    # An HTTP request's line and headers, then its body, must arrive within these.
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_size: int = 16384


@dataclass(frozen=True)
class MetricsConfig:
    """Who may read GET /metrics: these addresses, or anyone with the bearer token."""

    allow: tuple[str, ...] = ("127.0.0.1", "::1")
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TlsConfig:
    """The certificate the gateway serves wss:// and https:// with (PEM files, read at start
    and again on SIGHUP: a renewed certificate needs no restart)."""

    certificate: str
    key: str
    # Intermediate certificates, when the certificate file holds only the server's own.
    chain: str | None = None


@dataclass(frozen=True)
class IngressConfig:
    """Limits of the signed HTTP and XML-RPC ingress (docs/ingress.rst)."""

    timestamp_window: float = 60.0
    max_body_size: int = 1024 * 1024
    max_batch: int = 1000


@dataclass(frozen=True)
class EngineConfig:
    """Where the gateway keeps what must outlive a connection (docs/engines.rst)."""

    kind: str = "sqlite"
    # The SQLite file, relative to the working directory unless absolute.
    path: str = DEFAULT_ENGINE_PATH
    # Redis: where the server is (rediss:// or tls = true for TLS), the prefix of every key
    # and channel, and the password (from the environment variable `password_env` names).
    url: str = DEFAULT_REDIS_URL
    prefix: str = DEFAULT_REDIS_PREFIX
    tls: bool = False
    tls_ca: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TopicHistory:
    """History kept for the topics a pattern matches, instead of the default."""

    pattern: Pattern
    size: int
    ttl: float


@dataclass(frozen=True)
class HistoryConfig:
    """How much of each topic's stream is kept, and how much one recovery may replay."""

    size: int = 1000
    ttl: float = 300.0
    max_recover: int = 1000
    # Seconds an event id accepted by the ingress is remembered, to ignore its retries.
    dedupe_window: float = 600.0
    topics: tuple[TopicHistory, ...] = ()

    def policy(self, topic: str) -> HistoryPolicy:
        """The first `[[history.topics]]` entry matching `topic`, or the default."""
        for entry in self.topics:
            if entry.pattern.matches(topic):
                return HistoryPolicy(entry.size, entry.ttl)
        return HistoryPolicy(self.size, self.ttl)


@dataclass(frozen=True)
class PresenceConfig:
    """Channel presence (docs/presence.rst): how long a member that lost its connection stays
    before it leaves, how long a silent gateway's members stay (Redis engine), and the web
    app's URL that receives the webhooks (None: no webhooks)."""

    leave_delay: float = 5.0
    timeout: float = 15.0
    webhook_url: str | None = None
    webhook_attempts: int = 10
    webhook_queue: int = 10_000
    webhook_timeout: float = 10.0


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the gateway needs to run; every field has a default."""

    realm: str = DEFAULT_REALM
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    backends: tuple[Backend, ...] = ()
    public: tuple[Pattern, ...] = ()
    limits: Limits = Limits()
    log_level: str = "info"
    log_format: str = "text"
    # The web app's shared secret; None turns the ingress off.
    secret: str | None = field(default=None, repr=False)
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    ingress: IngressConfig = IngressConfig()
    channel_prefix: str = DEFAULT_CHANNEL_PREFIX
    # How long a client id (WELCOME authextra.client_id) may be resumed, in seconds.
    client_ttl: float = DEFAULT_CLIENT_TTL
    # Origins allowed to open a WebSocket ("*": any); see transport/origins.py.
    allowed_origins: tuple[str, ...] = LOOPBACK_ORIGINS
    # The longest `ttl` a token minted by POST /ingress/token may have.
    token_max_ttl: float = DEFAULT_TOKEN_MAX_TTL
    # How long a client record holding persistent subscriptions is kept after it leaves.
    persistent_ttl: float = DEFAULT_PERSISTENT_TTL
    engine: EngineConfig = EngineConfig()
    history: HistoryConfig = HistoryConfig()
    # Proxies (addresses or networks) whose X-Forwarded-For names the client.
    trusted_proxies: tuple[str, ...] = ()
    # Every connection starts with a PROXY protocol header (from a load balancer) naming the
    # client; connections without one are closed.
    proxy_protocol: bool = False
    metrics: MetricsConfig = MetricsConfig()
    # None: plain ws:// and http:// (TLS ends at a proxy in front, if any).
    tls: TlsConfig | None = None
    presence: PresenceConfig = PresenceConfig()

    def backend(self, authid: str) -> Backend | None:
        return next((b for b in self.backends if b.authid == authid), None)

    def with_overrides(self, **overrides: Any) -> GatewayConfig:
        """Return a copy with the given non-None fields replaced (command-line options)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if "realm" in given:
            _realm(given["realm"])
        if "port" in given:
            _port(given["port"])
        return replace(self, **given)


_TOP_KEYS = {
    "realm",
    "host",
    "port",
    "backends",
    "public",
    "limits",
    "log",
    "secret",
    "topic_prefix",
    "ingress",
    "channel_prefix",
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
# A shared telegraphy.toml also carries the web app's settings; the gateway skips those.
_WEB_APP_KEYS = {f.name for f in fields(Settings)} - _TOP_KEYS
_LOG_LEVELS = ("debug", "info", "warn", "error", "critical")
_LOG_FORMATS = ("text", "json")


def load_config(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> GatewayConfig:
    """Read a TOML file (or nothing: the defaults) into a validated `GatewayConfig`.

    Without a `secret` in the file, the environment's TELEGRAPHY_SECRET gives it.
    """
    environ = os.environ if environ is None else environ
    if path is None:
        return _with_env_metrics_token(config_from_mapping(_with_env_secret({}, environ)), environ)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read configuration file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    try:
        config = config_from_mapping(_with_env_secret(data, environ))
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e
    return _with_env_metrics_token(config, environ)


def _with_env_metrics_token(config: GatewayConfig, environ: Mapping[str, str]) -> GatewayConfig:
    if config.metrics.token is not None or METRICS_TOKEN_ENV not in environ:
        return config
    token = _metrics_token(environ[METRICS_TOKEN_ENV], METRICS_TOKEN_ENV)
    return replace(config, metrics=replace(config.metrics, token=token))


def _with_env_secret(data: Mapping[str, Any], environ: Mapping[str, str]) -> Mapping[str, Any]:
    if "secret" in data or SECRET_ENV not in environ:
        return data
    if len(environ[SECRET_ENV]) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{SECRET_ENV} is too short: use at least {MIN_SECRET_LENGTH} characters")
    return {**data, "secret": environ[SECRET_ENV]}


def config_from_mapping(data: Mapping[str, Any]) -> GatewayConfig:
    """Build a `GatewayConfig` from parsed TOML (or any mapping of the same shape)."""
    _reject_unknown(data, _TOP_KEYS | _WEB_APP_KEYS, "top level")
    log = _table(data, "log")
    _reject_unknown(log, {"level", "format"}, "[log]")
    config = GatewayConfig(
        realm=_realm(data.get("realm", DEFAULT_REALM)),
        host=_typed(data, "host", str, DEFAULT_HOST),
        port=_port(data.get("port", DEFAULT_PORT)),
        backends=_backends(data.get("backends", [])),
        public=_patterns(data.get("public", [])),
        limits=_limits(_table(data, "limits")),
        log_level=_choice(log, "level", _LOG_LEVELS, "info"),
        log_format=_choice(log, "format", _LOG_FORMATS, "text"),
        secret=_secret(data.get("secret")),
        topic_prefix=_prefix("topic_prefix", data.get("topic_prefix", DEFAULT_TOPIC_PREFIX)),
        ingress=_ingress(_table(data, "ingress")),
        channel_prefix=_prefix(
            "channel_prefix", data.get("channel_prefix", DEFAULT_CHANNEL_PREFIX)
        ),
        client_ttl=_duration(data, "client_ttl", DEFAULT_CLIENT_TTL),
        allowed_origins=_origins(data.get("allowed_origins", list(LOOPBACK_ORIGINS))),
        token_max_ttl=_duration(data, "token_max_ttl", DEFAULT_TOKEN_MAX_TTL),
        persistent_ttl=_duration(data, "persistent_ttl", DEFAULT_PERSISTENT_TTL),
        engine=_engine(_table(data, "engine")),
        history=_history(_table(data, "history")),
        trusted_proxies=_networks("trusted_proxies", data.get("trusted_proxies", [])),
        proxy_protocol=_flag(data, "proxy_protocol"),
        metrics=_metrics(_table(data, "metrics")),
        tls=_tls(data.get("tls")),
        presence=_presence(_table(data, "presence"), data.get("secret")),
    )
    _separate(config.topic_prefix, config.channel_prefix)
    return config


def _separate(topic_prefix: str, channel_prefix: str) -> None:
    # A channel grant must never reach an event topic, nor an event grant a channel.
    topics, channels = f"{topic_prefix}.", f"{channel_prefix}."
    if topics.startswith(channels) or channels.startswith(topics):
        raise ConfigError(
            f"topic_prefix {topic_prefix!r} and channel_prefix {channel_prefix!r} overlap: "
            "choose prefixes where neither is under the other"
        )


def _reject_unknown(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} at {where}; expected one of: "
            + ", ".join(sorted(known))
        )


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _typed(data: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{key} must be a {kind.__name__}, got {value!r}")
    return value


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = data.get(key.rsplit(".", 1)[-1], default)  # "engine.kind" is read as "kind"
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _realm(value: Any) -> str:
    if not isinstance(value, str) or not validate_pattern(value, "exact"):
        raise ConfigError(f"realm must be a WAMP URI such as 'telegraphy', got {value!r}")
    return value


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"secret must be a string of at least {MIN_SECRET_LENGTH} characters, shared with "
            "the web app; make one with python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return value


def _prefix(key: str, value: Any) -> str:
    try:
        prefix = validate_event_name(value)
    except EventError:
        prefix = ""
    if not prefix or f"{prefix}.".startswith(RESERVED):
        example = "telegraphy.event" if key == "topic_prefix" else DEFAULT_CHANNEL_PREFIX
        raise ConfigError(
            f"{key} must be a dotted name such as '{example}', not under 'wamp.', got {value!r}"
        )
    return prefix


def _duration(data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key.rsplit(".", 1)[-1], default)  # "history.ttl" is read as "ttl"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not 0 < value < math.inf:
        raise ConfigError(f"{key} must be a positive number of seconds, got {value!r}")
    return float(value)


def _origins(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(
            'allowed_origins must be an array of origins such as ["https://shop.example.com"]'
        )
    origins: list[str] = []
    for index, entry in enumerate(value):
        try:
            origins.append(parse_allowed_origin(entry))
        except ValueError as e:
            raise ConfigError(f"allowed_origins[{index}]: {e}") from None
    return tuple(origins)


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ConfigError(f"port must be an integer from 0 to 65535, got {value!r}")
    return value


def _backends(value: Any) -> tuple[Backend, ...]:
    if not isinstance(value, list):
        raise ConfigError("backends must be an array of tables ([[backends]])")
    backends = tuple(_backend(i, entry) for i, entry in enumerate(value))
    ids = [b.authid for b in backends]
    duplicates = sorted({a for a in ids if ids.count(a) > 1})
    if duplicates:
        raise ConfigError(f"backends: authid {', '.join(duplicates)} is given more than once")
    return backends


def _backend(index: int, entry: Any) -> Backend:
    where = f"backends[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table with authid and secret")
    _reject_unknown(entry, {"authid", "secret", "authrole"}, where)
    for key in ("authid", "secret"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ConfigError(f"{where}.{key} must be a non-empty string")
    if len(entry["secret"]) < 16:
        raise ConfigError(f"{where}.secret is too short: use at least 16 characters")
    authrole = entry.get("authrole", "backend")
    if authrole in BROWSER_ROLES or not validate_pattern(str(authrole), "exact"):
        raise ConfigError(f"{where}.authrole must be a URI other than 'anonymous' and 'user'")
    return Backend(authid=entry["authid"], secret=entry["secret"], authrole=authrole)


def _patterns(value: Any) -> tuple[Pattern, ...]:
    if not isinstance(value, list):
        raise ConfigError("public must be an array of topic patterns")
    return tuple(_pattern(f"public[{i}]", entry) for i, entry in enumerate(value))


def _pattern(where: str, entry: Any) -> Pattern:
    uri: Any
    if isinstance(entry, str):
        uri, match = entry, "exact"
    elif isinstance(entry, Mapping):
        _reject_unknown(entry, {"uri", "match"}, where)
        uri, match = entry.get("uri"), str(entry.get("match", "exact"))
    else:
        raise ConfigError(f"{where} must be a URI string or a table {{uri, match}}")
    if match not in MATCH_POLICIES:
        raise ConfigError(f"{where}.match must be one of {', '.join(MATCH_POLICIES)}")
    if not isinstance(uri, str) or not validate_pattern(uri, match):
        raise ConfigError(f"{where}: {uri!r} is not a valid {match} topic pattern")
    if Pattern(uri, match).reaches_reserved():
        raise ConfigError(f"{where}: topics under 'wamp.' are reserved (meta events)")
    return Pattern(uri, match)


REDIS_KEYS = {"url", "prefix", "tls", "tls_ca", "password_env"}


def _engine(data: Mapping[str, Any]) -> EngineConfig:
    _reject_unknown(data, {"kind", "path", *REDIS_KEYS}, "[engine]")
    kind = _choice(data, "engine.kind", ENGINE_KINDS, "sqlite")
    if kind != "sqlite" and "path" in data:
        raise ConfigError(f'[engine] path is for kind = "sqlite"; the {kind} engine keeps no file')
    if kind != "redis" and REDIS_KEYS & set(data):
        keys = ", ".join(sorted(REDIS_KEYS & set(data)))
        raise ConfigError(f'[engine] {keys}: only for kind = "redis"')
    if kind == "redis":
        return _redis_engine(data)
    path = data.get("path", DEFAULT_ENGINE_PATH)
    if not isinstance(path, str) or not path:
        raise ConfigError(f"[engine] path must be a file name, got {path!r}")
    return EngineConfig(kind, path)


def _redis_engine(data: Mapping[str, Any]) -> EngineConfig:
    try:
        from .engines.redis import RedisAddress
    except ImportError as e:
        raise ConfigError(
            f'[engine] kind = "redis" needs {e.name}: pip install "telegraphy-gateway[redis]"'
        ) from None

    url = data.get("url", DEFAULT_REDIS_URL)
    prefix = data.get("prefix", DEFAULT_REDIS_PREFIX)
    tls = data.get("tls", False)
    password_env = data.get("password_env", REDIS_PASSWORD_ENV)
    if not isinstance(url, str):
        raise ConfigError(f"[engine] url must be a redis:// URL, got {url!r}")
    try:
        address = RedisAddress.parse(url)
    except ValueError as e:
        raise ConfigError(f"[engine] url: {e}") from None
    if address.password is not None:
        raise ConfigError(f"[engine] url must not carry a password: set {password_env} instead")
    if not isinstance(prefix, str) or not prefix or any(c.isspace() for c in prefix):
        raise ConfigError(f"[engine] prefix must be a string without spaces, got {prefix!r}")
    if not isinstance(tls, bool):
        raise ConfigError("[engine] tls must be true or false")
    if not isinstance(password_env, str) or not password_env:
        raise ConfigError("[engine] password_env must name an environment variable")
    tls_ca = data.get("tls_ca")
    if tls_ca is not None and (not isinstance(tls_ca, str) or not Path(tls_ca).is_file()):
        raise ConfigError(f"[engine] tls_ca must name a PEM file of certificates, got {tls_ca!r}")
    password = os.environ.get(password_env) or None
    return EngineConfig("redis", url=url, prefix=prefix, tls=tls, tls_ca=tls_ca, password=password)


def _history(data: Mapping[str, Any]) -> HistoryConfig:
    _reject_unknown(data, {"size", "ttl", "max_recover", "dedupe_window", "topics"}, "[history]")
    default = HistoryConfig()
    topics = data.get("topics", [])
    if not isinstance(topics, list):
        raise ConfigError("history.topics must be an array of tables ([[history.topics]])")
    history = HistoryConfig(
        size=_count(data, "history.size", default.size),
        ttl=_duration(data, "history.ttl", default.ttl),
        max_recover=_count(data, "history.max_recover", default.max_recover),
        dedupe_window=_duration(data, "history.dedupe_window", default.dedupe_window),
    )
    # A topic entry's size or ttl left out is the [history] table's, not the built-in one.
    return replace(
        history, topics=tuple(_topic_history(i, entry, history) for i, entry in enumerate(topics))
    )


def _count(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key.rsplit(".", 1)[-1], default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key} must be an integer of 0 or more, got {value!r}")
    return value


def _topic_history(index: int, entry: Any, default: HistoryConfig) -> TopicHistory:
    where = f"history.topics[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table with uri, match, size and ttl")
    _reject_unknown(entry, {"uri", "match", "size", "ttl"}, where)
    pattern = _pattern(where, {k: v for k, v in entry.items() if k in ("uri", "match")})
    return TopicHistory(
        pattern,
        _count(entry, f"{where}.size", default.size),
        _duration(entry, f"{where}.ttl", default.ttl),
    )


def _networks(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{key} must be an array of addresses or networks such as ["10.0.0.0/8"]')
    try:
        parse_networks(value)
    except ValueError as e:
        raise ConfigError(f"{key}: {e}") from None
    return tuple(value)


def _tls(data: Any) -> TlsConfig | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ConfigError("[tls] must be a table with certificate and key")
    _reject_unknown(data, {"certificate", "key", "chain"}, "[tls]")
    paths: dict[str, str] = {}
    for key in ("certificate", "key", "chain"):
        value = data.get(key)
        if key == "chain" and value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f"tls.{key} must be the path of a PEM file, got {value!r}")
        paths[key] = value
    return TlsConfig(**paths)


def _metrics(data: Mapping[str, Any]) -> MetricsConfig:
    _reject_unknown(data, {"allow", "token"}, "[metrics]")
    allow = _networks("metrics.allow", data.get("allow", list(MetricsConfig.allow)))
    token = data.get("token")
    return MetricsConfig(allow, None if token is None else _metrics_token(token, "metrics.token"))


def _metrics_token(token: Any, where: str) -> str:
    if not isinstance(token, str) or len(token) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{where} must be a string of at least {MIN_SECRET_LENGTH} characters")
    return token


def _limits(data: Mapping[str, Any]) -> Limits:
    return Limits(**_positive_numbers(data, Limits, "limits"))


def _ingress(data: Mapping[str, Any]) -> IngressConfig:
    return IngressConfig(**_positive_numbers(data, IngressConfig, "ingress"))


def _positive_numbers(data: Mapping[str, Any], table: type, name: str) -> dict[str, Any]:
    """The keys of a table of positive numbers (integers where the dataclass says int)."""
    known = {f.name: f for f in fields(table)}
    _reject_unknown(data, set(known), f"[{name}]")
    values: dict[str, Any] = {}
    for key, value in data.items():
        kind = int if known[key].type == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
            raise ConfigError(f"{name}.{key} must be a positive number, got {value!r}")
        values[key] = value
    return values


def _presence(data: Mapping[str, Any], secret: Any) -> PresenceConfig:
    url = data.get("webhook_url")
    numbers = _positive_numbers(
        {k: v for k, v in data.items() if k != "webhook_url"}, PresenceConfig, "presence"
    )
    if url is None:
        return PresenceConfig(**numbers)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"presence.webhook_url must be an http:// or https:// URL, got {url!r}")
    if secret is None:
        raise ConfigError("presence.webhook_url needs the shared secret to sign the webhooks")
    return PresenceConfig(webhook_url=url, **numbers)


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    return value
