"""`TELEGRAPHY_*` keys of `app.config`, seeded with defaults and validated once, at init_app.

Keys named like `telegraphy.core.Settings` fields (TELEGRAPHY_ + the field in upper case)
become those settings; `FLASK_KEYS` are this extension's own. docs/flask.rst lists them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

from telegraphy.core import (
    AppSettings,
    ConfigurationError,
    OutboxSettings,
    Settings,
    gateway_setting,
    websocket_url_setting,
)

PREFIX = "TELEGRAPHY_"
SECRET_KEY = PREFIX + "SECRET"
CORE_FIELDS = {PREFIX + f.name.upper(): f.name for f in fields(Settings)}
FLASK_KEYS: dict[str, Any] = {
    PREFIX + "ENABLED": True,
    PREFIX + "WEBSOCKET_URL": None,
    PREFIX + "GATEWAY": {},
    PREFIX + "URL_PREFIX": "/telegraphy",
    # A function of the user: what the members of channels it is present in see of it.
    PREFIX + "PRESENCE_INFO": None,
    PREFIX + "OUTBOX": False,
    PREFIX + "OUTBOX_RELAY": True,
    PREFIX + "OUTBOX_POLL_INTERVAL": 1.0,
    PREFIX + "OUTBOX_LEASE": 60.0,
    PREFIX + "OUTBOX_KEEP": 86_400.0,
    PREFIX + "OUTBOX_DATABASE": None,
}


@dataclass(frozen=True)
class FlaskSettings(AppSettings):
    """What the extension runs with: the core settings plus the Flask-only keys."""

    url_prefix: str = "/telegraphy"


def seed(config: MutableMapping[str, Any]) -> None:
    """Give every key its default, so that `app.config` shows what the app runs with."""
    secret = os.environ.get(SECRET_KEY)
    if secret:
        config.setdefault(SECRET_KEY, secret)
    for key, name in CORE_FIELDS.items():
        default = Settings.__dataclass_fields__[name].default
        if default is not MISSING:
            config.setdefault(key, default)
    for key, value in FLASK_KEYS.items():
        config.setdefault(key, dict(value) if isinstance(value, dict) else value)


def build(config: Mapping[str, Any]) -> FlaskSettings:
    """Validate the `TELEGRAPHY_*` keys; `ConfigurationError` names the key and what to fix."""
    given = {k: v for k, v in config.items() if k.startswith(PREFIX)}
    unknown = sorted(set(given) - set(CORE_FIELDS) - set(FLASK_KEYS))
    if unknown:
        raise ConfigurationError(
            f"app.config: unknown key(s) {', '.join(unknown)}; known: "
            + ", ".join(sorted([*CORE_FIELDS, *FLASK_KEYS]))
        )
    if not given.get(SECRET_KEY):
        raise ConfigurationError(
            f"{SECRET_KEY} is not set: it is the secret shared with the gateway (16 or more "
            "characters), from app.config or the TELEGRAPHY_SECRET environment variable; make "
            "one with python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return FlaskSettings(
        core=_core(given),
        enabled=_flag(given.get(PREFIX + "ENABLED", True)),
        websocket_url=websocket_url_setting(
            given.get(PREFIX + "WEBSOCKET_URL"), PREFIX + "WEBSOCKET_URL"
        ),
        gateway=gateway_setting(given.get(PREFIX + "GATEWAY", {}), PREFIX + "GATEWAY"),
        url_prefix=_url_prefix(given.get(PREFIX + "URL_PREFIX", "/telegraphy")),
        outbox=OutboxSettings.from_mapping(
            {key.removeprefix(PREFIX): value for key, value in given.items()}, PREFIX
        ),
    )


def _core(given: Mapping[str, Any]) -> Settings:
    values = {name: given[key] for key, name in CORE_FIELDS.items() if key in given}
    try:
        return Settings(**values)
    except ConfigurationError as e:
        # The core's messages start with the field's name: say the key the user wrote.
        name, _, rest = str(e).partition(" ")
        key = PREFIX + name.upper()
        raise ConfigurationError(f"{key} {rest}" if key in CORE_FIELDS else str(e)) from None


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{PREFIX}ENABLED must be True or False, got {value!r}")
    return value


def _url_prefix(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or value.endswith("/"):
        raise ConfigurationError(
            f"{PREFIX}URL_PREFIX must be a path such as /telegraphy (no trailing slash), "
            f"got {value!r}"
        )
    return value
