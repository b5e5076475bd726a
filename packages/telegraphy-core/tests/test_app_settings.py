"""The web adapters' shared settings, and the embedded gateway's keys made from them."""

from __future__ import annotations

import pytest

from telegraphy.core import (
    AppSettings,
    ConfigurationError,
    Settings,
    gateway_mapping,
    gateway_setting,
    websocket_url_setting,
)

CORE = Settings(secret="app-secret-0123456789", gateway_url="https://rt.example")


def test_browsers_use_the_gateways_websocket_unless_told_otherwise() -> None:
    assert AppSettings(CORE).browser_url == "wss://rt.example/ws"
    assert AppSettings(CORE, websocket_url="wss://cdn/ws").browser_url == "wss://cdn/ws"


def test_adapter_values_are_checked_and_errors_name_the_key_the_user_wrote() -> None:
    assert websocket_url_setting(None, "KEY") is None
    assert websocket_url_setting("ws://x/ws", "KEY") == "ws://x/ws"
    for bad in ("http://x/ws", 42):
        with pytest.raises(ConfigurationError, match=r"^MY_URL must start with ws:// or wss://"):
            websocket_url_setting(bad, "MY_URL")
    assert gateway_setting({"limits": {}}, "KEY") == {"limits": {}}
    with pytest.raises(ConfigurationError, match=r"^MY_GATEWAY must be a dict.*\['public'\]"):
        gateway_setting(["public"], "MY_GATEWAY")


def test_gateway_mapping_takes_the_address_from_the_url_and_adds_extra_keys() -> None:
    extra_public = {"uri": "app.extra", "match": "exact"}
    computed = {"uri": "telegraphy.event.shop.Price", "match": "exact"}
    app = AppSettings(CORE, gateway={"client_ttl": 30, "public": [extra_public]})
    mapping = gateway_mapping(app, [computed])
    assert mapping == {
        "client_ttl": 30,
        "realm": "telegraphy",
        "secret": CORE.secret,
        "topic_prefix": "telegraphy.event",
        "channel_prefix": "telegraphy.channel",
        "host": "rt.example",
        "port": 443,
        "public": [computed, extra_public],
    }
    local = gateway_mapping(AppSettings(Settings(secret=CORE.secret)), [], "0.0.0.0", 9100)
    assert (local["host"], local["port"], local["public"]) == ("0.0.0.0", 9100, [])
    assert gateway_mapping(AppSettings(Settings(secret=CORE.secret)), [])["port"] == 9000
