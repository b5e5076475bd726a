"""System checks: each bad setting gives its own id and a message that says what to fix."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.test import override_settings

VALID = {"SECRET": "a-secret-long-enough-0123", "GATEWAY_URL": "http://127.0.0.1:9000"}


def problems(**telegraphy: Any) -> list[tuple[str, str]]:
    with override_settings(TELEGRAPHY=telegraphy):
        found = checks.run_checks(tags=["telegraphy"])
    return [(m.id or "", m.msg) for m in found]


def test_valid_settings_pass(monkeypatch: Any) -> None:
    assert problems(**VALID) == []


def test_missing_or_short_secret_is_e001(monkeypatch: Any) -> None:
    monkeypatch.delenv("TELEGRAPHY_SECRET", raising=False)
    [(code, message)] = problems(GATEWAY_URL="http://127.0.0.1:9000")
    assert code == "django_telegraphy.E001"
    assert "settings.TELEGRAPHY['SECRET'] is missing or too short" in message
    [(code, message)] = problems(SECRET="short")
    assert code == "django_telegraphy.E001" and "at least 16 characters" in message
    monkeypatch.setenv("TELEGRAPHY_SECRET", "from-the-environment-0123")
    assert problems(GATEWAY_URL="http://127.0.0.1:9000") == []


def test_bad_gateway_or_websocket_url_is_e002() -> None:
    [(code, message)] = problems(**{**VALID, "GATEWAY_URL": "127.0.0.1:9000"})
    assert code == "django_telegraphy.E002"
    assert "['GATEWAY_URL'] must be an http:// or https:// URL" in message
    [(code, message)] = problems(**{**VALID, "WEBSOCKET_URL": "http://x/ws"})
    assert code == "django_telegraphy.E002" and "must start with ws:// or wss://" in message


def test_unknown_keys_and_bad_values_are_e003() -> None:
    [(code, message)] = problems(**{**VALID, "GATEWAY_ULR": "http://x"})
    assert code == "django_telegraphy.E003" and "unknown key(s) GATEWAY_ULR" in message
    [(code, message)] = problems(**{**VALID, "TRANSPORT": "pigeon"})
    assert code == "django_telegraphy.E003"
    assert "transport must be one of http, xmlrpc" in message


def test_outbox_databases_that_are_not_databases_are_e004() -> None:
    assert problems(**{**VALID, "OUTBOX": True, "OUTBOX_DATABASES": ["default"]}) == []
    [(code, message)] = problems(**{**VALID, "OUTBOX_DATABASES": ["default", "replica"]})
    assert code == "django_telegraphy.E004"
    assert "['OUTBOX_DATABASES'] must be a list of aliases of settings.DATABASES" in message
    [(code, _)] = problems(**{**VALID, "OUTBOX_DATABASES": "default"})
    assert code == "django_telegraphy.E004"
    [(code, message)] = problems(**{**VALID, "OUTBOX_LEASE": -1})
    assert code == "django_telegraphy.E003" and "OUTBOX_LEASE must be a positive" in message


def test_a_missing_request_context_processor_is_w001() -> None:
    engine = {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
    with override_settings(TEMPLATES=[engine]):
        found = checks.run_checks(tags=[checks.Tags.templates])
    [warning] = [m for m in found if m.id == "django_telegraphy.W001"]
    assert "django.template.context_processors.request is not in" in warning.msg
