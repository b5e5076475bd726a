"""{% telegraphy_scripts %} and the token view: the client's configuration and fresh tokens."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.template import Context, Template
from django.test import Client, RequestFactory

from telegraphy.core import Grants, TokenClaims, read_token

pytestmark = pytest.mark.django_db


def render(user: Any) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load telegraphy_tags %}{% telegraphy_scripts %}")
    return template.render(Context({"request": request}))


def config_of(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script id="telegraphy-config" type="application/json">(.*?)</script>', html
    )
    assert found, html
    parsed: dict[str, Any] = json.loads(found.group(1))
    return parsed


def claims(token: str) -> TokenClaims:
    return read_token(settings.TELEGRAPHY["SECRET"], token)


def test_the_tag_includes_the_bundle_and_configures_it_with_a_token_for_the_user() -> None:
    user = User.objects.create_user("ann", password="x")
    html = render(user)
    assert '<script src="/static/telegraphy/telegraphy.min.js"></script>' in html
    assert "Telegraphy.configure(JSON.parse(" in html
    config = config_of(html)
    assert {k: config[k] for k in ("url", "realm", "topicPrefix", "channelPrefix")} == {
        "url": "ws://127.0.0.1:9/ws",
        "realm": "telegraphy",
        "topicPrefix": "telegraphy.event",
        "channelPrefix": "telegraphy.channel",
    }
    assert (config["tokenUrl"], config["user"]) == ("/telegraphy/token/", str(user.pk))
    token = claims(config["token"])
    assert token.user == str(user.pk)
    assert token.grants == Grants(
        subscribe_events=("telegraphy_demo.MyModel", "telegraphy_demo.Notification"),
        subscribe_channels=("chat.*", f"user.{user.pk}"),
        publish_channels=("chat.*",),
    )
    assert 0 < token.expires_at - time.time() <= 61
    assert config["token"] != config_of(render(user))["token"]  # minted afresh each render


def test_an_anonymous_visitor_gets_only_the_public_events() -> None:
    config = config_of(render(AnonymousUser()))
    token = claims(config["token"])
    assert (config["user"], token.user) == (None, None)
    assert token.grants == Grants(subscribe_events=("telegraphy_demo.MyModel",))


def test_data_in_the_config_cannot_break_out_of_the_script_element(
    settings: Any,
) -> None:
    settings.TELEGRAPHY = {**settings.TELEGRAPHY, "WEBSOCKET_URL": "wss://x/</script><b>"}
    html = render(AnonymousUser())
    assert "</script><b>" not in html
    assert config_of(html)["url"] == "wss://x/</script><b>"


def test_the_token_view_answers_a_fresh_uncached_token_for_the_session(client: Client) -> None:
    user = User.objects.create_user("bob", password="pw")
    client.force_login(user)
    first, second = client.get("/telegraphy/token/"), client.get("/telegraphy/token/")
    assert first.status_code == 200 and first["Content-Type"] == "application/json"
    assert "no-cache" in first["Cache-Control"] and "no-store" in first["Cache-Control"]
    body = first.json()
    assert claims(body["token"]).user == str(user.pk)
    assert body["expires"] == claims(body["token"]).expires_at
    assert body["token"] != second.json()["token"]
    assert client.post("/telegraphy/token/").status_code == 405
    client.logout()
    assert claims(client.get("/telegraphy/token/").json()["token"]).user is None


def test_with_debug_the_config_turns_on_the_clients_warnings_with_the_event_names(
    settings: Any,
) -> None:
    settings.DEBUG = True
    config = config_of(render(AnonymousUser()))
    assert config["debug"] is True
    assert config["events"] == ["telegraphy_demo.MyModel", "telegraphy_demo.Notification"]
    settings.DEBUG = False
    config = config_of(render(AnonymousUser()))
    assert "debug" not in config and "events" not in config
