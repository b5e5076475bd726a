"""Presence webhooks into Flask: a signed POST to the extension's URL becomes signals; one not
signed with the shared secret is answered 401 and sends none."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from flask_support import SECRET
from test_docs_delivery import code_blocks

from telegraphy.contrib.flask_telegraphy import client_config, presence
from telegraphy.core import PresenceMember, read_token, sign_request

PATH = "/telegraphy/presence"
BODY = json.dumps(
    {
        "events": [
            {
                "name": "member_left",
                "channel": "chat.room-1",
                "time": 2.0,
                "member": {"client_id": "c1", "user": "7", "info": None},
                "count": 0,
            },
            {"name": "channel_vacated", "channel": "chat.room-1", "time": 2.0},
        ]
    }
).encode()


def test_a_signed_webhook_becomes_signals(app: Flask) -> None:
    seen: list[tuple[str, Any, dict[str, Any]]] = []

    def changed(sender: Any, **kwargs: Any) -> None:
        seen.append(("presence_changed", sender, kwargs))

    def left(sender: Any, **kwargs: Any) -> None:
        seen.append(("member_left", sender, kwargs))

    with presence.presence_changed.connected_to(changed), presence.member_left.connected_to(left):
        headers = sign_request(SECRET, "POST", PATH, BODY)
        answer = app.test_client().post(PATH, data=BODY, headers=headers)
    assert answer.status_code == 200, answer.data
    assert [(name, kwargs.get("name")) for name, _, kwargs in seen] == [
        ("presence_changed", "member_left"),
        ("member_left", None),
        ("presence_changed", "channel_vacated"),
    ]
    assert all(sender is app for _, sender, _ in seen)
    assert seen[1][2]["member"] == PresenceMember("c1", "7")
    assert seen[1][2]["count"] == 0


def test_a_webhook_not_signed_with_the_secret_is_refused_with_401(app: Flask) -> None:
    seen: list[Any] = []
    with presence.presence_changed.connected_to(lambda sender, **kw: seen.append(kw)):
        client = app.test_client()
        forged = sign_request("not-the-secret-0123456789", "POST", PATH, BODY)
        answer = client.post(PATH, data=BODY, headers=forged)
        assert (answer.status_code, answer.json["error"]) == (401, "bad_signature")  # type: ignore[index]
        assert client.post(PATH, data=BODY).status_code == 401
    assert seen == []


def test_the_docs_flask_receiver_logs_leaves(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    (block,) = code_blocks("presence.rst", "python")[2:]
    namespace: dict[str, Any] = {"app": app}
    exec(block, namespace)
    try:
        with caplog.at_level(logging.INFO, logger=app.logger.name):
            headers = sign_request(SECRET, "POST", PATH, BODY)
            assert app.test_client().post(PATH, data=BODY, headers=headers).status_code == 200
    finally:
        presence.member_left.disconnect(namespace["left"])
    assert caplog.messages == ["7 left chat.room-1 (0 here)"]


def test_presence_info_is_what_the_configured_function_gives(app: Flask) -> None:
    app.config["TELEGRAPHY_PRESENCE_INFO"] = lambda user: {"name": "visitor"}
    with app.test_request_context():
        config = client_config()
    assert read_token(SECRET, config["token"]).info == {"name": "visitor"}
