"""System checks: bad Telegraphy settings are reported by `manage.py check` with what to fix."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from telegraphy.core import ConfigurationError, websocket_url_setting

from .conf import SETTING, build, raw_settings

HINT = "Set it in settings.TELEGRAPHY (see the django-telegraphy docs: Settings)."
MIN_SECRET_LENGTH = 16  # as telegraphy.core.Settings and the gateway require
REQUEST_PROCESSOR = "django.template.context_processors.request"


def register() -> None:
    checks.register(check_settings, "telegraphy")
    checks.register(check_templates, "telegraphy", checks.Tags.templates)


def check_settings(**_: Any) -> list[checks.CheckMessage]:
    try:
        data = raw_settings()
    except ImproperlyConfigured as e:  # TELEGRAPHY is not even a dict
        return [checks.Error(str(e), hint=HINT, id="django_telegraphy.E003")]
    secret = data.get("SECRET")
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        return [
            checks.Error(
                f"settings.{SETTING}['SECRET'] is missing or too short: it must be a string of "
                f"at least {MIN_SECRET_LENGTH} characters, the secret shared with the gateway",
                hint="Set SECRET (or the TELEGRAPHY_SECRET environment variable); make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe())'",
                id="django_telegraphy.E001",
            )
        ]
    url_problem = _url_problem(data)
    if url_problem:
        return [
            checks.Error(
                url_problem,
                hint="GATEWAY_URL is the gateway's http(s) address, e.g. http://127.0.0.1:9000; "
                "WEBSOCKET_URL (optional) the ws(s):// address browsers use.",
                id="django_telegraphy.E002",
            )
        ]
    try:
        build(data)
    except ConfigurationError as e:
        return [checks.Error(str(e), hint=HINT, id="django_telegraphy.E003")]
    return _outbox_problems(data)


def _outbox_problems(data: dict[str, Any]) -> list[checks.CheckMessage]:
    aliases = data.get("OUTBOX_DATABASES", ["default"])
    known = isinstance(aliases, list | tuple) and all(a in settings.DATABASES for a in aliases)
    if known:
        return []
    return [
        checks.Error(
            f"settings.{SETTING}['OUTBOX_DATABASES'] must be a list of aliases of "
            f"settings.DATABASES ({', '.join(settings.DATABASES)}), got {aliases!r}",
            hint="List the databases whose outbox the web processes relay (see the "
            "django-telegraphy docs: The transactional outbox).",
            id="django_telegraphy.E004",
        )
    ]


def _url_problem(data: dict[str, Any]) -> str | None:
    url = data.get("GATEWAY_URL", "http://127.0.0.1:9000")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"settings.{SETTING}['GATEWAY_URL'] must be an http:// or https:// URL such as "
            f"http://127.0.0.1:9000, got {url!r}"
        )
    try:
        websocket_url_setting(data.get("WEBSOCKET_URL"), f"settings.{SETTING}['WEBSOCKET_URL']")
    except ConfigurationError as e:
        return str(e)
    return None


def check_templates(**_: Any) -> list[checks.CheckMessage]:
    """{% telegraphy_scripts %} mints the token for `request.user` and dates the page's
    `since` from the request's start: it needs the request."""
    for engine in settings.TEMPLATES:
        if engine.get("BACKEND") != "django.template.backends.django.DjangoTemplates":
            continue
        if REQUEST_PROCESSOR in engine.get("OPTIONS", {}).get("context_processors", []):
            return []
        return [
            checks.Warning(
                f"{REQUEST_PROCESSOR} is not in the DjangoTemplates context_processors: "
                "{% telegraphy_scripts %} cannot see request.user (it mints anonymous tokens) "
                "nor when the request started (the page may miss events committed meanwhile)",
                hint=f"Add '{REQUEST_PROCESSOR}' to TEMPLATES[...]['OPTIONS']"
                "['context_processors'].",
                id="django_telegraphy.W001",
            )
        ]
    return []
