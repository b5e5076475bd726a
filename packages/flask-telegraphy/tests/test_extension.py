"""The extension: init_app, configuration, the served JS client, custom and per-user events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_models import Note
from flask_support import SECRET, make_app
from sqlalchemy.orm import Session, sessionmaker

from telegraphy.contrib.flask_telegraphy import (
    Telegraphy,
    TelegraphyState,
    capture_events,
    get_state,
    send_event,
    send_to_channel,
    send_to_user,
)
from telegraphy.core import ConfigurationError, Event, Publisher

ROOT = Path(__file__).resolve().parents[3]
BUILT = ROOT / "js" / "dist" / "telegraphy.min.js"
SHIPPED = (
    ROOT
    / "packages/flask-telegraphy/src/telegraphy/contrib/flask_telegraphy/static"
    / "telegraphy.min.js"
)


class Shipped(Event):
    name = "shop.OrderShipped"
    order_id: int


def test_both_ways_of_initialising_keep_state_per_app_and_seed_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    direct = make_app()
    factory = Flask("factory")
    factory.config["TELEGRAPHY_GATEWAY_URL"] = "https://gateway.example.com"
    monkeypatch.setenv("TELEGRAPHY_SECRET", "from-the-environment-0123")
    telegraphy = Telegraphy()
    telegraphy.init_app(factory)

    assert isinstance(direct.extensions["telegraphy"], TelegraphyState)
    assert get_state(direct) is not get_state(factory)
    assert not hasattr(telegraphy, "settings")  # per-app state lives on the app only
    assert factory.config["TELEGRAPHY_SECRET"] == "from-the-environment-0123"
    assert factory.config["TELEGRAPHY_REALM"] == "telegraphy"
    assert factory.config["TELEGRAPHY_TOKEN_TTL"] == 60.0
    assert factory.config["TELEGRAPHY_RENDER_GAP_MARGIN"] == 2.0
    assert factory.config["TELEGRAPHY_URL_PREFIX"] == "/telegraphy"
    settings = get_state(factory).settings
    assert settings.core.secret == "from-the-environment-0123"
    assert settings.browser_url == "wss://gateway.example.com/ws"
    assert get_state(direct).settings.core.secret == SECRET
    with direct.app_context():
        assert Telegraphy.state() is get_state(direct)
    with pytest.raises(RuntimeError, match="not initialised on app 'plain'"):
        get_state(Flask("plain"))
    with pytest.raises(RuntimeError, match="no Flask app context"):
        get_state()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"TELEGRAPHY_SECRET": None}, "TELEGRAPHY_SECRET is not set"),
        ({"TELEGRAPHY_SECRET": "short"}, "TELEGRAPHY_SECRET must be a string of at least 16"),
        ({"TELEGRAPHY_GATEWAY_URL": "127.0.0.1:9000"}, "TELEGRAPHY_GATEWAY_URL must be an http"),
        ({"TELEGRAPHY_TIMEOUT": 0}, "TELEGRAPHY_TIMEOUT must be a positive number, got 0"),
        ({"TELEGRAPHY_TRANSPORT": "smoke"}, "TELEGRAPHY_TRANSPORT must be one of http, xmlrpc"),
        ({"TELEGRAPHY_GATEWAY_URI": "x"}, "unknown key.s. TELEGRAPHY_GATEWAY_URI; known: "),
        ({"TELEGRAPHY_WEBSOCKET_URL": "http://x"}, "TELEGRAPHY_WEBSOCKET_URL must start with ws"),
        ({"TELEGRAPHY_ENABLED": "no"}, "TELEGRAPHY_ENABLED must be True or False"),
        ({"TELEGRAPHY_GATEWAY": ["public"]}, "TELEGRAPHY_GATEWAY must be a dict"),
        ({"TELEGRAPHY_URL_PREFIX": "rt/"}, "TELEGRAPHY_URL_PREFIX must be a path"),
        ({"TELEGRAPHY_RENDER_GAP_MARGIN": -1}, "TELEGRAPHY_RENDER_GAP_MARGIN must be a number"),
    ],
)
def test_bad_configuration_is_refused_at_init_naming_the_key(
    config: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAPHY_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match=message):
        make_app(**config)


def test_the_js_client_and_fresh_tokens_are_served_by_the_extension() -> None:
    client = make_app().test_client()
    with client.get("/telegraphy/static/telegraphy.min.js") as bundle:
        assert bundle.status_code == 200
        assert bundle.data == SHIPPED.read_bytes()
        assert "javascript" in bundle.content_type
    answers = [client.get("/telegraphy/token") for _ in range(2)]
    assert answers[0].headers["Cache-Control"] == "no-store"
    first, second = (a.get_json() for a in answers)
    assert first["token"].startswith("tg1.") and first["token"] != second["token"]
    assert client.post("/telegraphy/token").status_code == 405
    moved = make_app(TELEGRAPHY_URL_PREFIX="/rt").test_client()
    assert moved.get("/rt/token").status_code == 200


def test_the_shipped_bundle_defines_the_script_tag_api() -> None:
    text = SHIPPED.read_text()
    assert "TELEGRAPHY_CONFIG" in text and "configure" in text and "register" in text


def test_the_shipped_bundle_is_the_built_one() -> None:
    assert BUILT.exists(), "js/dist is not built: cd js && npm ci && npm run build"
    assert SHIPPED.read_bytes() == BUILT.read_bytes(), "run `make ship-js` to ship the new build"


def test_custom_events_go_to_everyone_a_channel_or_one_user(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    class User:
        is_authenticated = True

        def get_id(self) -> str:
            return "42"

    with app.app_context(), capture_events() as sent:
        send_event(Shipped(order_id=1))
        send_to_channel("chat.room-1", Shipped(order_id=2))
        send_to_user(User(), Shipped(order_id=3))
        send_to_user(7, Shipped(order_id=4))
        with pytest.raises(ValueError, match="needs a signed-in user"):
            send_to_user(type("Anonymous", (), {"is_authenticated": False})(), Shipped(order_id=5))
        with sessions() as session:
            session.add(Note(title="with an order"))
            send_event(Shipped(order_id=6), session=session)
            send_event(Shipped(order_id=7), session=session)
            assert len(sent) == 4  # waiting for the commit
            session.rollback()
            send_event(Shipped(order_id=8), session=session)
            session.commit()
            send_event(Shipped(order_id=9), session=session)  # no transaction: now
    assert [(e["data"]["order_id"], e["meta"].get("channel")) for e in sent] == [
        (1, None),
        (2, "chat.room-1"),
        (3, "user.42"),
        (4, "user.7"),
        (8, None),
        (9, None),
    ]
    assert all(e["name"] == "shop.OrderShipped" for e in sent)


def test_the_app_publisher_is_made_on_first_use_and_closed_with_the_state() -> None:
    state = get_state(make_app(TELEGRAPHY_QUEUE_SIZE=5, TELEGRAPHY_ON_OVERFLOW="drop"))
    publisher = state.sender()
    assert isinstance(publisher, Publisher) and state.sender() is publisher
    assert publisher.settings.queue_size == 5
    state.close()
    assert state.sender() is not publisher  # a new one, should the app send again
    state.close()
