"""`flask telegraphy run`: the gateway's configuration from the app, and a real gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask_models import Note
from flask_processes import flask_telegraphy_run
from flask_support import SECRET, make_app

from gateway_command import free_port, health
from telegraphy.contrib.flask_telegraphy import (
    BaseChannel,
    BaseEventModel,
    get_state,
    send_event,
)
from telegraphy.contrib.flask_telegraphy.cli import gateway_mapping
from telegraphy.core import Event, Publisher
from telegraphy.gateway import config_from_mapping


class PublicNotes(BaseEventModel):
    model = Note
    public = True


class Rooms(BaseChannel):
    name = "rooms.*"
    public = True


class Private(BaseChannel):
    name = "staff"


def test_the_gateway_config_comes_from_the_app_with_the_public_definitions() -> None:
    for definition in (PublicNotes(), Rooms(), Private()):
        definition.register()
    extra: dict[str, Any] = {"public": ["telegraphy.demo.extra"], "client_ttl": 60}
    app = make_app(TELEGRAPHY_GATEWAY_URL="http://127.0.0.1:9100", TELEGRAPHY_GATEWAY=extra)
    mapping = gateway_mapping(get_state(app).settings)
    assert mapping["public"] == [
        {"uri": "telegraphy.event.flask_models.Note", "match": "exact"},
        {"uri": "telegraphy.channel.rooms.", "match": "prefix"},
        "telegraphy.demo.extra",
    ]
    config = config_from_mapping(mapping)
    assert (config.host, config.port, config.realm, config.client_ttl) == (
        "127.0.0.1",
        9100,
        "telegraphy",
        60,
    )
    assert config.secret == SECRET
    config = config_from_mapping(gateway_mapping(get_state(app).settings, "0.0.0.0", 9200))
    assert (config.host, config.port) == ("0.0.0.0", 9200)
    printed = app.test_cli_runner().invoke(args=["telegraphy", "public"])
    assert json.loads(printed.output) == mapping["public"][:2]


def test_a_bad_gateway_key_is_a_clear_command_error() -> None:
    app = make_app(TELEGRAPHY_GATEWAY={"colour": 1})
    result = app.test_cli_runner().invoke(args=["telegraphy", "run"])
    assert result.exit_code == 1
    assert "Error: gateway configuration:" in result.output and "colour" in result.output


def test_flask_telegraphy_run_serves_a_gateway_the_app_delivers_to(tmp_path: Path) -> None:
    port = free_port()
    with flask_telegraphy_run(port, tmp_path, {"TELEGRAPHY_SECRET": SECRET}) as gateway:
        status = health(port)
        assert status is not None
        assert status["status"] == "ok" and status["realm"] == "telegraphy"
        app = make_app(TELEGRAPHY_GATEWAY_URL=f"http://127.0.0.1:{port}")
        with app.app_context():
            send_event(Event("shop.Hello", {"n": 1}))
        publisher = get_state(app).sender()
        assert isinstance(publisher, Publisher)
        assert publisher.flush(10)  # the gateway took it: same secret, signed ingress
        assert publisher.stats.delivered == 1 and publisher.stats.rejected == 0
        get_state(app).close()
    assert gateway.returncode == 0, gateway.output
    assert f"serving realm telegraphy on ws://127.0.0.1:{port}/ws" in gateway.output
    assert "telegraphy-gateway stopped" in gateway.output
    assert "Traceback" not in gateway.output
