"""`telegraphy_scripts()`: the JS client, its configuration, and a token for the current user."""

from __future__ import annotations

import json
import re
import time
from typing import Any, ClassVar

from flask import Flask, render_template_string
from flask_login import LoginManager, UserMixin, login_user
from flask_models import Note, Tag
from flask_support import SECRET, make_app

from telegraphy.contrib.flask_telegraphy import (
    BaseChannel,
    BaseEventModel,
    Telegraphy,
    register_event,
)
from telegraphy.core import Event, TokenClaims, read_token

PAGE = "<head>{{ telegraphy_scripts() }}</head>"
CONFIG = re.compile(r'<script id="telegraphy-config" type="application/json">(.*?)</script>')


class PublicNotes(BaseEventModel):
    model = Note
    public = True


class PrivateTags(BaseEventModel):
    model = Tag


class Chat(BaseChannel):
    name = "chat.*"
    publish = True


class News(BaseChannel):
    name = "news"
    public = True


class Audit(Event):
    name = "ops.Audit"
    public: ClassVar[bool] = False
    text: str

    @classmethod
    def is_authorized_user(cls, user: Any) -> bool:
        return getattr(user, "id", None) == "admin"


class User(UserMixin):
    def __init__(self, id: str) -> None:
        self.id = id


def register_all() -> None:
    PublicNotes().register()
    PrivateTags().register()
    Chat().register()
    News().register()
    register_event(Audit)


def rendered(app: Flask, path: str = "/") -> tuple[str, dict[str, Any], TokenClaims]:
    with app.test_request_context(path):
        return parse(render_template_string(PAGE))


def parse(html: str) -> tuple[str, dict[str, Any], TokenClaims]:
    found = re.search(
        r'<script id="telegraphy-config" type="application/json">(.*?)</script>', html
    )
    assert found, html
    config = json.loads(found.group(1))
    return html, config, read_token(SECRET, config["token"])


def test_an_anonymous_visitor_gets_the_client_the_config_and_a_public_token() -> None:
    register_all()
    html, config, claims = rendered(make_app(TELEGRAPHY_GATEWAY_URL="http://127.0.0.1:9100"))
    assert html.startswith('<head><script src="/telegraphy/static/telegraphy.min.js"></script>')
    assert 'Telegraphy.configure(JSON.parse(document.getElementById("telegraphy-config")' in html
    assert config == {
        "url": "ws://127.0.0.1:9100/ws",
        "realm": "telegraphy",
        "topicPrefix": "telegraphy.event",
        "channelPrefix": "telegraphy.channel",
        "token": config["token"],
        "tokenExpires": claims.expires_at,
        "tokenUrl": "/telegraphy/token",
        "user": None,
        "since": config["since"],
    }
    assert claims.user is None
    assert claims.grants.subscribe_events == ("flask_models.Note",)
    assert claims.grants.subscribe_channels == ("news",)
    assert claims.grants.publish_channels == ()
    assert claims.expires_at - claims.issued_at == 60


def test_a_flask_login_user_gets_their_grants_and_own_channel() -> None:
    register_all()
    app = make_app(TELEGRAPHY_TOKEN_TTL=30)
    logins = LoginManager(app)
    logins.user_loader(User)

    @app.get("/page")
    def page() -> str:
        login_user(User("admin"))
        return render_template_string(PAGE)

    @app.get("/token")
    def token() -> Any:
        login_user(User("ann"))
        return app.view_functions["telegraphy.token"]()

    _, config, claims = parse(app.test_client().get("/page").text)
    assert config["user"] == "admin" and claims.user == "admin"
    assert claims.grants.subscribe_events == ("flask_models.Note", "flask_models.Tag", "ops.Audit")
    assert claims.grants.subscribe_channels == ("chat.*", "news", "user.admin")
    assert claims.grants.publish_channels == ("chat.*",)
    assert claims.expires_at - claims.issued_at == 30

    answer = app.test_client().get("/token").get_json()
    ann = read_token(SECRET, answer["token"])
    assert ann.user == "ann" and answer["expires"] == ann.expires_at
    assert ann.grants.subscribe_events == ("flask_models.Note", "flask_models.Tag")


def test_an_app_without_flask_login_says_who_the_user_is_with_get_user() -> None:
    app = Flask("own_users")
    app.config.update(TELEGRAPHY_SECRET=SECRET, TELEGRAPHY_WEBSOCKET_URL="wss://rt.example/ws")
    Telegraphy(app, get_user=lambda: User("bob"))
    _, config, claims = rendered(app)
    assert claims.user == "bob" and config["url"] == "wss://rt.example/ws"
    assert claims.grants.subscribe_channels == ("user.bob",)


def test_the_config_cannot_close_its_script_element() -> None:
    app = make_app(TELEGRAPHY_WEBSOCKET_URL="wss://rt.example/ws?</script><b>")
    html, config, _ = rendered(app)
    assert "</script><b>" not in html
    assert config["url"] == "wss://rt.example/ws?</script><b>"


def test_since_is_when_the_request_started_less_the_margin() -> None:
    app = make_app(TELEGRAPHY_RENDER_GAP_MARGIN=0.5)
    entered: list[float] = []

    @app.before_request
    def reads_data_first() -> None:
        entered.append(time.time())
        time.sleep(0.01)

    @app.get("/page")
    def page() -> str:
        return render_template_string(PAGE)

    before = time.time()
    _, config, _ = parse(app.test_client().get("/page").text)
    # The request started before any before_request function, which may read the page's data.
    assert before - 0.5 <= config["since"] <= entered[0] - 0.5


def test_outside_a_request_since_is_now_less_the_margin() -> None:
    before = time.time()
    _, config, _ = rendered(make_app())
    assert before - 2.0 <= config["since"] <= time.time() - 2.0


def test_in_debug_mode_the_config_turns_on_the_clients_warnings_with_the_event_names() -> None:
    register_all()
    app = make_app()
    app.debug = True
    _, config, _ = rendered(app)
    assert config["debug"] is True
    assert config["events"] == ["flask_models.Note", "flask_models.Tag", "ops.Audit"]
    app.debug = False
    _, config, _ = rendered(app)
    assert "debug" not in config and "events" not in config
