"""The page's part: the render-time token and the client configuration it carries."""

from __future__ import annotations

import json
import re
import time

from telegraphy.core import (
    AppSettings,
    Grants,
    Settings,
    config_html,
    page_config,
    page_token,
    read_token,
    scripts_html,
)

SECRET = "page-secret-0123456789"
GRANTS = Grants(("shop.Order",), ("user.42",))
CONFIG = re.compile(r'^<script id="telegraphy-config" type="application/json">(.*?)</script>$')


def test_page_token_is_fresh_and_says_when_it_expires() -> None:
    settings = Settings(secret=SECRET, token_ttl=30)
    token, expires = page_token(settings, "42", GRANTS)
    claims = read_token(SECRET, token)
    assert (claims.user, claims.grants, claims.expires_at) == ("42", GRANTS, expires)
    assert 0 < expires - time.time() <= 31
    assert page_token(settings, "42", GRANTS)[0] != token


def test_page_config_is_what_the_js_client_reads() -> None:
    app = AppSettings(Settings(secret=SECRET, gateway_url="https://rt.example"))
    config = page_config(app, "42", GRANTS, "/telegraphy/token", started=1_700_000_000.5)
    token = config.pop("token")
    assert read_token(SECRET, token).grants == GRANTS
    assert config == {
        "url": "wss://rt.example/ws",
        "realm": "telegraphy",
        "topicPrefix": "telegraphy.event",
        "channelPrefix": "telegraphy.channel",
        "tokenExpires": config["tokenExpires"],
        "tokenUrl": "/telegraphy/token",
        "user": "42",
        "since": 1_699_999_998.5,
    }
    own = AppSettings(app.core, websocket_url="wss://elsewhere/ws")
    assert page_config(own, None, Grants(), None)["url"] == "wss://elsewhere/ws"


def test_since_is_when_the_request_started_less_the_margin_or_now() -> None:
    app = AppSettings(Settings(secret=SECRET, render_gap_margin=0.25))
    assert page_config(app, None, Grants(), None, started=100.0)["since"] == 99.75
    before = time.time()
    since = page_config(app, None, Grants(), None)["since"]
    assert before - 0.25 <= since <= time.time() - 0.25


def test_no_value_can_close_the_script_element() -> None:
    hostile = {"url": "wss://x/</script><b>&'", "user": None}
    html = config_html(hostile)
    found = CONFIG.match(html)
    assert found and "</script><b>" not in found.group(1) and "'" not in found.group(1)
    assert json.loads(found.group(1)) == hostile


def test_scripts_load_the_bundle_then_configure_it() -> None:
    html = scripts_html('/static/telegraphy.min.js?v="1"', {"user": "42"})
    bundle, config, configure = html.split("\n")
    assert bundle == '<script src="/static/telegraphy.min.js?v=&quot;1&quot;"></script>'
    assert config == config_html({"user": "42"})
    assert configure == (
        "<script>Telegraphy.configure(JSON.parse("
        'document.getElementById("telegraphy-config").textContent));</script>'
    )
