"""The app's settings: one `TELEGRAPHY` dict in Django settings, read through a cached accessor.

    TELEGRAPHY = {"SECRET": "...", "GATEWAY_URL": "http://127.0.0.1:9000"}

Keys named like `telegraphy.core.Settings` fields (upper case) become those settings; the
others (`DJANGO_KEYS`) are this app's own. docs/django.rst lists every key.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS

from telegraphy.core import AppSettings as AppSettings
from telegraphy.core import (
    ConfigurationError,
    OutboxSettings,
    Publisher,
    Sender,
    Settings,
    configure,
    gateway_setting,
    websocket_url_setting,
)
from telegraphy.core import EventRecorder as EventRecorder

SETTING = "TELEGRAPHY"
SECRET_ENV = "TELEGRAPHY_SECRET"
CORE_KEYS = frozenset(f.name.upper() for f in fields(Settings))
DJANGO_KEYS = frozenset(
    {
        "ENABLED",
        "WEBSOCKET_URL",
        "GATEWAY",
        "OUTBOX_DATABASES",
        "PRESENCE_INFO",
        *OutboxSettings.KEYS,
    }
)


def raw_settings() -> dict[str, Any]:
    """The `TELEGRAPHY` dict as given, with the secret from the environment if left out."""
    value = getattr(django_settings, SETTING, None) or {}
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(f"settings.{SETTING} must be a dict, got {type(value).__name__}")
    data = dict(value)
    if "SECRET" not in data and os.environ.get(SECRET_ENV):
        data["SECRET"] = os.environ[SECRET_ENV]
    return data


def build(data: Mapping[str, Any]) -> AppSettings:
    """Validate a `TELEGRAPHY` dict; `ConfigurationError` says what to fix."""
    unknown = sorted(set(data) - CORE_KEYS - DJANGO_KEYS)
    if unknown:
        raise ConfigurationError(
            f"settings.{SETTING}: unknown key(s) {', '.join(unknown)}; known: "
            + ", ".join(sorted(CORE_KEYS | DJANGO_KEYS))
        )
    core = Settings.from_mapping(
        {k.lower(): v for k, v in data.items() if k in CORE_KEYS}, source=f"settings.{SETTING}"
    )
    return AppSettings(
        core,
        bool(data.get("ENABLED", True)),
        websocket_url_setting(data.get("WEBSOCKET_URL"), f"settings.{SETTING}['WEBSOCKET_URL']"),
        gateway_setting(data.get("GATEWAY", {}), f"settings.{SETTING}['GATEWAY']"),
        OutboxSettings.from_mapping(data, f"settings.{SETTING}: "),
    )


def outbox_databases() -> list[str]:
    """The databases whose outbox the web process's relay delivers (OUTBOX_DATABASES)."""
    aliases = raw_settings().get("OUTBOX_DATABASES", [DEFAULT_DB_ALIAS])
    if isinstance(aliases, str) or not all(isinstance(a, str) for a in aliases):
        raise ImproperlyConfigured(
            f"settings.{SETTING}['OUTBOX_DATABASES'] must be a list of database aliases, "
            f"got {aliases!r}"
        )
    return list(aliases)


_lock = threading.Lock()
_cached: AppSettings | None = None
_publisher: Publisher | None = None
_override: Sender | None = None


def get_settings() -> AppSettings:
    """The validated settings, built once (and again after `settings.TELEGRAPHY` changes)."""
    global _cached
    cached = _cached
    if cached is None:
        try:
            cached = build(raw_settings())
        except ConfigurationError as e:
            raise ImproperlyConfigured(str(e)) from None
        _cached = cached
    return cached


def get_sender() -> Sender:
    """Where events go: the core publisher, configured from these settings on first use.

    A change of settings that leaves the core settings as they were (ENABLED, GATEWAY) keeps
    the publisher; any other change makes a new one (`configure` closes the old one).
    """
    global _publisher
    if _override is not None:
        return _override
    core = get_settings().core
    with _lock:
        if _publisher is None or _publisher.settings != core:
            _publisher = configure(core)
        return _publisher


def capturing() -> bool:
    """Whether `capture_events()` is recording this app's events."""
    return _override is not None


def clear() -> None:
    """Forget the cached settings (on `setting_changed`)."""
    global _cached
    _cached = None


@contextmanager
def capture_events() -> Iterator[EventRecorder]:
    """Send this app's events to a list instead of the gateway (for tests)."""
    global _override
    previous, recorder = _override, EventRecorder()
    _override = recorder
    try:
        yield recorder
    finally:
        _override = previous
