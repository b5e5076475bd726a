"""Configuration: TOML in, a validated frozen config out, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from telegraphy.gateway import ConfigError, GatewayConfig, Limits, config_from_mapping, load_config
from telegraphy.gateway.engines.base import HistoryPolicy
from telegraphy.gateway.router.uri import Pattern

EXAMPLE = Path(__file__).parents[3] / "examples" / "gateway" / "telegraphy.toml"


def test_defaults_need_no_file() -> None:
    config = load_config(None)
    assert (config.realm, config.host, config.port) == ("telegraphy", "127.0.0.1", 9000)
    assert config.backends == () and config.public == ()
    assert config.limits == Limits()


def test_example_file_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.backend("demo-backend") is not None
    assert Pattern("telegraphy.public.", "prefix") in config.public
    assert (config.engine.kind, config.engine.path) == ("sqlite", "telegraphy-gateway.sqlite3")
    assert config.history.policy("telegraphy.channel.chat.room-1") == HistoryPolicy(200, 86400)
    assert config.history.policy("telegraphy.event.shop.Order") == HistoryPolicy(1000, 300)


def test_every_key() -> None:
    config = config_from_mapping(
        {
            "realm": "shop",
            "host": "0.0.0.0",
            "port": 8080,
            "public": [
                "a.b",
                {"uri": "c.", "match": "prefix"},
                {"uri": "d..e", "match": "wildcard"},
            ],
            "backends": [{"authid": "web", "secret": "x" * 16, "authrole": "webapp"}],
            "limits": {"max_message_size": 10, "hello_timeout": 0.5},
            "log": {"level": "debug", "format": "json"},
        }
    )
    assert config.public == (
        Pattern("a.b"),
        Pattern("c.", "prefix"),
        Pattern("d..e", "wildcard"),
    )
    assert config.backend("web") is not None and config.backend("web").authrole == "webapp"  # type: ignore[union-attr]
    assert config.limits.max_message_size == 10 and config.limits.hello_timeout == 0.5
    assert (config.log_level, config.log_format) == ("debug", "json")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"relam": "x"}, "unknown key(s) relam at top level"),
        ({"realm": "bad realm"}, "realm must be a WAMP URI"),
        ({"port": 70000}, "port must be an integer from 0 to 65535"),
        ({"port": "9000"}, "port must be an integer"),
        ({"backends": {"authid": "a"}}, "backends must be an array of tables"),
        ({"backends": [{"authid": "a"}]}, "backends[0].secret must be a non-empty string"),
        ({"backends": [{"authid": "a", "secret": "short"}]}, "backends[0].secret is too short"),
        (
            {
                "backends": [
                    {"authid": "a", "secret": "s" * 16},
                    {"authid": "a", "secret": "t" * 16},
                ]
            },
            "authid a is given more than once",
        ),
        (
            {"backends": [{"authid": "a", "secret": "s" * 16, "authrole": "anonymous"}]},
            "authrole must be a URI other than 'anonymous'",
        ),
        ({"public": ["a..b"]}, "public[0]: 'a..b' is not a valid exact topic pattern"),
        ({"public": [{"uri": "a", "match": "fuzzy"}]}, "public[0].match must be one of"),
        ({"public": ["wamp.session.on_join"]}, "public[0]: topics under 'wamp.' are reserved"),
        ({"limits": {"max_message_size": 0}}, "limits.max_message_size must be a positive"),
        ({"limits": {"max_output_buffer": 1.5}}, "limits.max_output_buffer must be a positive"),
        ({"limits": {"unknown": 1}}, "unknown key(s) unknown at [limits]"),
        ({"log": {"level": "loud"}}, "level must be one of"),
        ({"client_ttl": 0}, "client_ttl must be a positive number of seconds"),
        ({"token_max_ttl": "1h"}, "token_max_ttl must be a positive number of seconds"),
        ({"channel_prefix": "wamp.x"}, "channel_prefix must be a dotted name"),
        ({"channel_prefix": "telegraphy.event.ch"}, "overlap"),
        ({"allowed_origins": "*"}, "allowed_origins must be an array"),
        ({"allowed_origins": ["https://x.com/path"]}, "allowed_origins[0]: 'https://x.com/path'"),
        ({"allowed_origins": ["ftp://x.com"]}, "is not an origin"),
        (
            {"backends": [{"authid": "a", "secret": "s" * 16, "authrole": "user"}]},
            "authrole must be a URI other than 'anonymous' and 'user'",
        ),
    ],
)
def test_bad_configuration_says_what_to_fix(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_mapping(data)
    assert message in str(raised.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text("realm = ")
    with pytest.raises(ConfigError, match=r"gw\.toml is not valid TOML"):
        load_config(path)
    path.write_text('realm = "ok"\nport = -1\n')
    with pytest.raises(ConfigError, match=r"gw\.toml: port must be"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config(tmp_path / "missing.toml")


def test_token_and_origin_keys() -> None:
    defaults = GatewayConfig()
    assert (defaults.client_ttl, defaults.token_max_ttl) == (900, 3600)
    assert defaults.channel_prefix == "telegraphy.channel"
    assert "http://localhost:*" in defaults.allowed_origins
    assert "https://[::1]:*" in defaults.allowed_origins
    config = config_from_mapping(
        {
            "client_ttl": 60,
            "token_max_ttl": 300.5,
            "channel_prefix": "app.channel",
            "allowed_origins": ["HTTPS://Shop.Example.com", "http://localhost:*", "*"],
        }
    )
    assert (config.client_ttl, config.token_max_ttl, config.channel_prefix) == (
        60,
        300.5,
        "app.channel",
    )
    assert config.allowed_origins == ("https://shop.example.com:443", "http://localhost:*", "*")


def test_a_shared_file_may_carry_the_web_apps_settings() -> None:
    config = config_from_mapping({"gateway_url": "http://gw:9000", "batch_size": 10})
    assert config.realm == "telegraphy"


def test_overrides_are_validated() -> None:
    config = GatewayConfig().with_overrides(port=1234, host=None)
    assert config.port == 1234 and config.host == "127.0.0.1"
    with pytest.raises(ConfigError):
        GatewayConfig().with_overrides(realm="no spaces allowed")


@pytest.mark.parametrize(
    "entry",
    ["wamp.x", {"uri": "wam", "match": "prefix"}, {"uri": ".session.on_join", "match": "wildcard"}],
)
def test_public_patterns_never_reach_meta_events(entry: object) -> None:
    with pytest.raises(ConfigError, match="reserved"):
        config_from_mapping({"public": [entry]})


def test_engine_history_and_persistent_ttl_defaults_and_keys() -> None:
    defaults = GatewayConfig()
    assert (defaults.engine.kind, defaults.engine.path) == ("sqlite", "telegraphy-gateway.sqlite3")
    assert defaults.persistent_ttl == 86400
    config = config_from_mapping(
        {
            "persistent_ttl": 3600,
            "engine": {"kind": "sqlite", "path": "/var/lib/telegraphy/gw.sqlite3"},
            "history": {
                "size": 50,
                "ttl": 30,
                "max_recover": 20,
                "dedupe_window": 120,
                "topics": [
                    {"uri": "app.ticks.", "match": "prefix", "size": 0},
                    {"uri": "app.orders", "ttl": 3600},
                ],
            },
        }
    )
    assert config.persistent_ttl == 3600
    assert config.engine.path == "/var/lib/telegraphy/gw.sqlite3"
    history = config.history
    assert (history.max_recover, history.dedupe_window) == (20, 120)
    # The first matching [[history.topics]] entry wins; the rest keep the default.
    assert history.policy("app.ticks.eur") == HistoryPolicy(0, 30)
    assert history.policy("app.orders") == HistoryPolicy(50, 3600)
    assert history.policy("app.other") == HistoryPolicy(50, 30)
    assert config_from_mapping({"engine": {"kind": "memory"}}).engine.kind == "memory"


def test_the_redis_engine_takes_its_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_SECRET", "s3cret")
    data = {
        "engine": {"kind": "redis", "url": "rediss://cache:6380/2", "password_env": "REDIS_SECRET"}
    }
    engine = config_from_mapping(data).engine
    assert (engine.url, engine.tls, engine.password) == ("rediss://cache:6380/2", False, "s3cret")
    assert "s3cret" not in repr(engine)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"engine": "sqlite"}, "[engine] must be a table"),
        (
            {"engine": {"kind": "mongo"}},
            "engine.kind must be one of sqlite, memory, redis, got 'mongo'",
        ),
        ({"engine": {"file": "x"}}, "unknown key(s) file at [engine]; expected one of: kind, "),
        ({"engine": {"url": "redis://h/0"}}, '[engine] url: only for kind = "redis"'),
        ({"engine": {"kind": "redis", "url": "http://h"}}, "not a redis:// or rediss:// URL"),
        ({"engine": {"kind": "redis", "url": "redis://h/x"}}, "the database in 'redis://h/x'"),
        (
            {"engine": {"kind": "redis", "url": "redis://u:pw@h/0"}},
            "[engine] url must not carry a password: set TELEGRAPHY_REDIS_PASSWORD instead",
        ),
        ({"engine": {"kind": "redis", "prefix": "a b"}}, "[engine] prefix must be a string"),
        ({"engine": {"kind": "redis", "tls": "yes"}}, "[engine] tls must be true or false"),
        ({"engine": {"kind": "redis", "path": "x"}}, "the redis engine keeps no file"),
        ({"engine": {"kind": "memory", "path": "x"}}, '[engine] path is for kind = "sqlite"'),
        ({"engine": {"path": ""}}, "[engine] path must be a file name, got ''"),
        ({"engine": {"path": 3}}, "[engine] path must be a file name, got 3"),
        ({"history": {"window": 1}}, "unknown key(s) window at [history]"),
        ({"history": {"size": -1}}, "history.size must be an integer of 0 or more, got -1"),
        ({"history": {"size": 1.5}}, "history.size must be an integer of 0 or more"),
        ({"history": {"max_recover": True}}, "history.max_recover must be an integer"),
        ({"history": {"ttl": 0}}, "history.ttl must be a positive number of seconds, got 0"),
        ({"history": {"dedupe_window": "10m"}}, "history.dedupe_window must be a positive"),
        ({"history": {"topics": {"uri": "a"}}}, "history.topics must be an array of tables"),
        ({"history": {"topics": ["a"]}}, "history.topics[0] must be a table with uri, match"),
        (
            {"history": {"topics": [{"uri": "a.", "match": "prefix", "size": -2}]}},
            "history.topics[0].size must be an integer of 0 or more, got -2",
        ),
        (
            {"history": {"topics": [{"uri": "a", "ttl": -2}]}},
            "history.topics[0].ttl must be a positive number of seconds, got -2",
        ),
        ({"history": {"topics": [{"uri": "a", "max": 1}]}}, "unknown key(s) max at history.top"),
        ({"history": {"topics": [{"uri": "a b"}]}}, "history.topics[0]: 'a b' is not a valid"),
        (
            {"history": {"topics": [{"uri": "wamp.", "match": "prefix"}]}},
            "history.topics[0]: topics under 'wamp.' are reserved",
        ),
        ({"persistent_ttl": 0}, "persistent_ttl must be a positive number of seconds, got 0"),
        ({"persistent_ttl": "1d"}, "persistent_ttl must be a positive number of seconds"),
    ],
)
def test_bad_engine_and_history_configuration_says_what_to_fix(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_mapping(data)
    assert message in str(raised.value)


def test_a_shared_file_s_gateway_keys_are_skipped_by_the_web_app(tmp_path: Path) -> None:
    """Every top-level key of the gateway that the web app's Settings does not have is one the
    web app skips when it reads the same telegraphy.toml."""
    from dataclasses import fields as dataclass_fields

    from telegraphy.core import Settings
    from telegraphy.core._settings import GATEWAY_ONLY_KEYS
    from telegraphy.gateway.config import _TOP_KEYS

    web_app = {f.name for f in dataclass_fields(Settings)}
    assert _TOP_KEYS - web_app <= GATEWAY_ONLY_KEYS
    shared = tmp_path / "telegraphy.toml"
    shared.write_text(
        'secret = "a-shared-secret-0123456789"\nproxy_protocol = true\n'
        'trusted_proxies = ["127.0.0.1"]\n[metrics]\nallow = []\n'
    )
    assert Settings.from_toml(shared, environ={}).secret == "a-shared-secret-0123456789"
