"""The configuration the delivery, engines and gateway pages show: every TOML block in them
loads, and means what the text around it says."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from telegraphy.gateway import ConfigError, GatewayConfig, config_from_mapping
from telegraphy.gateway.config import EngineConfig, HistoryConfig
from telegraphy.gateway.engines.base import HistoryPolicy

DOCS = Path(__file__).parents[3] / "docs"


def toml_blocks(page: str) -> list[str]:
    """Every `.. code-block:: toml` of a page, dedented."""
    return code_blocks(page, "toml")


def code_blocks(page: str, language: str) -> list[str]:
    """Every `.. code-block:: <language>` of a page, dedented."""
    lines = (DOCS / page).read_text().splitlines()
    blocks = []
    for start, line in enumerate(lines):
        if line.strip() != f".. code-block:: {language}":
            continue
        indent = len(line) - len(line.lstrip()) + 3
        block: list[str] = []
        for body in lines[start + 1 :]:
            if body.strip() and len(body) - len(body.lstrip()) < indent:
                break
            block.append(body[indent:])
        blocks.append("\n".join(block).strip() + "\n")
    return blocks


def load(text: str) -> GatewayConfig:
    return config_from_mapping(tomllib.loads(text))


@pytest.mark.parametrize(
    "page", ["delivery.rst", "engines.rst", "gateway.rst", "presence.rst", "scaling.rst"]
)
def test_every_toml_block_of_the_page_is_a_valid_configuration(page: str) -> None:
    blocks = toml_blocks(page)
    assert blocks
    for block in blocks:
        load(block)


def test_the_delivery_example_keeps_an_hour_of_orders_and_no_telemetry() -> None:
    (block,) = toml_blocks("delivery.rst")
    config = load(block)
    policy = config.history.policy
    assert policy("telegraphy.event.shop.Order") == HistoryPolicy(5000, 3600)
    assert policy("telegraphy.event.telemetry.cpu").size == 0
    assert policy("telegraphy.event.shop.Invoice") == HistoryPolicy(1000, 300)
    assert config.engine == EngineConfig("sqlite", "/var/lib/telegraphy/gateway.sqlite3")
    assert (config.history.max_recover, config.history.dedupe_window) == (1000, 600)
    assert config.persistent_ttl == 86400


def test_the_defaults_the_delivery_page_lists_are_the_code_s() -> None:
    lines = (DOCS / "delivery.rst").read_text().splitlines()
    history, config = HistoryConfig(), GatewayConfig()
    documented = {
        "``[history] size``": f"{history.size}",
        "``[history] ttl``": f"{history.ttl:g}",
        "``[history] max_recover``": f"{history.max_recover}",
        "``client_ttl``": f"{config.client_ttl:g}",
        "``persistent_ttl``": f"{config.persistent_ttl:g}",
        "``[history] dedupe_window``": f"{history.dedupe_window:g}",
        "``[engine] kind``": f"``{config.engine.kind}``",
    }
    for setting, default in documented.items():
        row = next(line for line in lines if line.startswith(f"{setting} "))
        assert row[len(setting) :].split()[0] == default, setting


def test_the_engines_example_is_the_sqlite_engine_at_an_absolute_path() -> None:
    (block,) = toml_blocks("engines.rst")
    assert load(block).engine == EngineConfig("sqlite", "/var/lib/telegraphy/gateway.sqlite3")


def test_the_scaling_example_is_a_redis_engine_with_its_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAPHY_REDIS_PASSWORD", "from-the-environment")
    (block,) = toml_blocks("scaling.rst")
    engine = load(block).engine
    assert (engine.kind, engine.url, engine.prefix, engine.tls) == (
        "redis",
        "redis://10.0.0.5:6379/0",
        "telegraphy:",
        False,
    )
    assert engine.password == "from-the-environment"
    with pytest.raises(ConfigError, match="must not carry a password"):
        load(block.replace("10.0.0.5", "user:secret@10.0.0.5"))


def test_the_complete_example_of_the_gateway_page_sets_every_key() -> None:
    complete = max(toml_blocks("gateway.rst"), key=len)
    keys = {f.name for f in fields(GatewayConfig)} - {"log_level", "log_format"} | {"log"}
    assert set(tomllib.loads(complete)) == keys
    config = load(complete)
    assert config.history.policy("telegraphy.event.shop.Order") == HistoryPolicy(5000, 3600)


def test_the_history_example_of_the_gateway_page() -> None:
    (block,) = [b for b in toml_blocks("gateway.rst") if "chat" in b]
    policy = load(block).history.policy
    assert policy("telegraphy.channel.chat.room-1") == HistoryPolicy(5000, 86400)
    assert policy("telegraphy.event.market.Price") == HistoryPolicy(0, 120)
    assert policy("telegraphy.event.shop.Order") == HistoryPolicy(200, 120)


def test_a_topic_entry_without_size_or_ttl_takes_the_history_table_s() -> None:
    config = load('[history]\nsize = 5\nttl = 7\n[[history.topics]]\nuri = "a.b"\n')
    assert config.history.policy("a.b") == HistoryPolicy(5, 7)


def test_the_memory_engine_takes_no_path() -> None:
    with pytest.raises(ConfigError, match="memory engine keeps no file"):
        load('[engine]\nkind = "memory"\npath = "x.sqlite3"\n')


def test_the_presence_examples_set_the_leave_delay_and_the_webhook_url() -> None:
    (block,) = toml_blocks("presence.rst")
    assert (load(block).presence.leave_delay, load(block).presence.timeout) == (3, 15)
    (block,) = [b for b in toml_blocks("gateway.rst") if b.startswith("secret")]
    presence = load(block).presence
    assert presence.webhook_url == "https://shop.example.com/telegraphy/presence/"
    assert presence.leave_delay == 3
    with pytest.raises(ConfigError, match="needs the shared secret"):
        load(block.replace("secret = ", "# secret = "))
    with pytest.raises(ConfigError, match="http:// or https:// URL"):
        load('[presence]\nwebhook_url = "ftp://x"\n')
    with pytest.raises(ConfigError, match=r"presence\.leave_delay must be a positive number"):
        load("[presence]\nleave_delay = 0\n")
