"""Shared settings: from a dict, the environment or TOML, with errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from telegraphy.core import ConfigurationError, Settings

SECRET = "0123456789abcdef"


def test_defaults_and_the_websocket_url() -> None:
    settings = Settings(secret=SECRET)
    assert settings.gateway_url == "http://127.0.0.1:9000"
    assert settings.websocket_url == "ws://127.0.0.1:9000/ws"
    assert Settings(secret=SECRET, gateway_url="https://rt.example.com").websocket_url == (
        "wss://rt.example.com/ws"
    )
    assert SECRET not in repr(settings)
    assert settings.render_gap_margin == 2.0
    assert Settings(secret=SECRET, render_gap_margin=0).render_gap_margin == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "secret is required"),
        ({"secret": "short"}, "at least 16 characters"),
        ({"secret": SECRET, "gateway_url": "ws://x"}, "gateway_url must be an http://"),
        ({"secret": SECRET, "gateway_url": "http://"}, "gateway_url must be an http://"),
        ({"secret": SECRET, "realm": "a b"}, "realm must be a dotted name"),
        ({"secret": SECRET, "transport": "carrier-pigeon"}, "transport must be one of http"),
        ({"secret": SECRET, "on_overflow": "ignore"}, "on_overflow must be one of raise, drop"),
        ({"secret": SECRET, "batch_size": 0}, "batch_size must be a positive number"),
        ({"secret": SECRET, "timeout": True}, "timeout must be a positive number"),
        ({"secret": SECRET, "gatway_url": "http://x"}, "unknown setting(s) gatway_url"),
        ({"secret": SECRET, "render_gap_margin": -1}, "render_gap_margin must be a number of"),
        ({"secret": SECRET, "render_gap_margin": "2"}, "render_gap_margin must be a number of"),
        ({"secret": SECRET, "render_gap_margin": False}, "render_gap_margin must be a number"),
        ({"secret": SECRET, "render_gap_margin": float("nan")}, "render_gap_margin must be"),
        ({"secret": SECRET, "render_gap_margin": float("inf")}, "render_gap_margin must be"),
    ],
)
def test_bad_settings_say_what_to_fix(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_mapping(data)
    assert message in str(raised.value)


def test_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAPHY_SECRET": SECRET,
            "TELEGRAPHY_GATEWAY_URL": "http://gw:8080",
            "TELEGRAPHY_BATCH_SIZE": "7",
            "TELEGRAPHY_TIMEOUT": "2.5",
            "TELEGRAPHY_SPOOL_PATH": "",
            "TELEGRAPHY_RENDER_GAP_MARGIN": "0.5",
            "UNRELATED": "x",
        }
    )
    assert (settings.gateway_url, settings.batch_size, settings.timeout) == (
        "http://gw:8080",
        7,
        2.5,
    )
    assert settings.render_gap_margin == 0.5
    assert settings.spool_path is None
    with pytest.raises(ConfigurationError, match="TELEGRAPHY_QUEUE_SIZE must be a number"):
        Settings.from_env({"TELEGRAPHY_SECRET": SECRET, "TELEGRAPHY_QUEUE_SIZE": "many"})


def test_from_the_gateways_own_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "telegraphy.toml"
    path.write_text(
        f'realm = "shop"\nsecret = "{SECRET}"\nhost = "10.0.0.5"\nport = 9100\n'
        'public = ["a.b"]\nrender_gap_margin = 1.5\n'
        '[[backends]]\nauthid = "x"\nsecret = "yyyyyyyyyyyyyyyy"\n'
        "[limits]\nmax_message_size = 10\n"
    )
    settings = Settings.from_toml(path)
    assert (settings.realm, settings.gateway_url) == ("shop", "http://10.0.0.5:9100")
    assert settings.render_gap_margin == 1.5
    path.write_text("port = 9200\n")
    from_env = Settings.from_toml(path, environ={"TELEGRAPHY_SECRET": SECRET})
    assert from_env.secret == SECRET and from_env.gateway_url == "http://127.0.0.1:9200"
    path.write_text('secret = "short"\n')
    with pytest.raises(ConfigurationError, match=r"telegraphy\.toml: secret must be"):
        Settings.from_toml(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        Settings.from_toml(tmp_path / "missing.toml")
