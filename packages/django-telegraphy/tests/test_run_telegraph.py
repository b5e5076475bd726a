"""run_telegraph: the gateway's configuration from settings, and a real embedded gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from gateway_process import run_telegraph

from gateway_command import free_port, health
from telegraphy.contrib.django_telegraphy.conf import get_settings
from telegraphy.contrib.django_telegraphy.gateway import gateway_mapping
from telegraphy.gateway import config_from_mapping


def test_the_gateway_config_comes_from_settings_with_the_public_definitions() -> None:
    mapping = gateway_mapping(get_settings())
    assert mapping["public"] == [
        {"uri": "telegraphy.event.telegraphy_demo.MyModel", "match": "exact"}
    ]
    config = config_from_mapping(mapping)
    assert (config.host, config.port, config.realm) == ("127.0.0.1", 9, "telegraphy")
    assert config.secret == get_settings().core.secret
    assert [p.uri for p in config.public] == ["telegraphy.event.telegraphy_demo.MyModel"]
    extra: dict[str, Any] = {"public": ["telegraphy.demo.extra"], "client_ttl": 60}
    with override_settings(TELEGRAPHY={**get_settings_dict(), "GATEWAY": extra}):
        config = config_from_mapping(gateway_mapping(get_settings(), "0.0.0.0", 9100))
    assert (config.host, config.port, config.client_ttl) == ("0.0.0.0", 9100, 60)
    assert [p.uri for p in config.public][-1] == "telegraphy.demo.extra"


def get_settings_dict() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.TELEGRAPHY)


def test_a_bad_gateway_key_is_a_command_error() -> None:
    with (
        override_settings(TELEGRAPHY={**get_settings_dict(), "GATEWAY": {"colour": 1}}),
        pytest.raises(CommandError, match="unknown key"),
    ):
        call_command("run_telegraph")


def test_run_telegraph_serves_a_real_gateway_until_interrupted(tmp_path: Path) -> None:
    port = free_port()
    with run_telegraph(port, tmp_path) as gateway:
        status = health(port)
        assert status is not None
        assert status["status"] == "ok" and status["realm"] == "telegraphy"
    assert gateway.returncode == 0, gateway.output
    assert f"serving realm telegraphy on ws://127.0.0.1:{port}/ws" in gateway.output
    assert "telegraphy-gateway stopped" in gateway.output
    assert "Traceback" not in gateway.output
