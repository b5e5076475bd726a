"""Presence webhooks into Django: a real gateway POSTs them to the app's URL (served by
live_server) when real clients join and leave a channel, and the view turns them into signals;
a request not signed with the shared secret is answered 401."""

from __future__ import annotations

import json
import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client
from presence_peers import ROOM, member
from test_docs_delivery import code_blocks

from gateway_command import free_port, serving_gateway
from gateway_harness import eventually
from telegraphy.contrib.django_telegraphy import presence, tokens
from telegraphy.core import PresenceEvent, PresenceMember, read_token, sign_request

PATH = "/telegraphy/presence/"


@pytest.fixture
def received() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(signal name, keyword arguments) of every presence signal sent."""
    seen: list[tuple[str, dict[str, Any]]] = []
    receivers = []
    for signal_name, signal in [("presence_changed", presence.presence_changed), *_named()]:

        def receiver(sender: Any, signal_name: str = signal_name, **kwargs: Any) -> None:
            seen.append((signal_name, kwargs))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield seen
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def _named() -> list[tuple[str, Any]]:
    return list(presence.SIGNALS.items())


def post(client: Client, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        PATH,
        body,
        content_type="application/json",
        headers=headers,  # type: ignore[arg-type]
    )


def test_a_signed_webhook_becomes_signals(settings: Any, received: list[Any]) -> None:
    body = json.dumps(
        {
            "events": [
                {"name": "channel_occupied", "channel": ROOM, "time": 1.0},
                {
                    "name": "member_joined",
                    "channel": ROOM,
                    "time": 1.0,
                    "member": {"client_id": "c1", "user": "7", "info": {"name": "Ann"}},
                    "count": 1,
                },
            ]
        }
    ).encode()
    headers = sign_request(settings.TELEGRAPHY["SECRET"], "POST", PATH, body)
    answer = post(Client(), body, headers)
    assert answer.status_code == 200, answer.content
    names = [name for name, _ in received]
    assert names == ["presence_changed", "channel_occupied", "presence_changed", "member_joined"]
    joined = received[-1][1]
    assert joined["member"] == PresenceMember("c1", "7", {"name": "Ann"})
    assert joined["count"] == 1 and joined["channel"] == ROOM
    assert isinstance(joined["event"], PresenceEvent)


@pytest.mark.parametrize(
    "secret, path",
    [("another-secret-0123456789", PATH), (None, "/telegraphy/elsewhere/")],
)
def test_a_webhook_not_signed_with_the_secret_for_this_url_is_refused_with_401(
    settings: Any, received: list[Any], secret: str | None, path: str
) -> None:
    body = b'{"events": []}'
    headers = sign_request(secret or settings.TELEGRAPHY["SECRET"], "POST", path, body)
    answer = post(Client(), body, headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "bad_signature"
    assert post(Client(), body, {}).status_code == 401
    assert received == []


def test_a_replayed_webhook_is_refused(settings: Any, received: list[Any]) -> None:
    body = b'{"events": []}'
    headers = sign_request(settings.TELEGRAPHY["SECRET"], "POST", PATH, body)
    assert post(Client(), body, headers).status_code == 200
    answer = post(Client(), body, headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "replayed_nonce")


@pytest.fixture
def gateway(settings: Any, live_server: Any, tmp_path: Path) -> Iterator[str]:
    """A gateway whose presence webhooks go to this Django app, served by live_server."""
    port = free_port()
    config = tmp_path / "telegraphy.toml"
    config.write_text(
        f'secret = "{settings.TELEGRAPHY["SECRET"]}"\n'
        '[engine]\nkind = "memory"\n'
        f'[presence]\nleave_delay = 0.5\nwebhook_url = "{live_server.url}{PATH}"\n'
    )
    command = [sys.executable, "-m", "telegraphy.gateway", "--config", str(config)]
    with serving_gateway([*command, "--port", str(port)], port) as outcome:
        yield f"ws://127.0.0.1:{port}/ws"
    assert "Traceback" not in outcome.output, outcome.output


@pytest_twisted.ensureDeferred
async def test_a_real_gateway_sends_joins_and_leaves_to_the_view(
    settings: Any, gateway: str, received: list[Any]
) -> None:
    secret = settings.TELEGRAPHY["SECRET"]
    alice = await member(gateway, "alice", info={"name": "Alice"}, secret=secret)
    await eventually(lambda: len(received) >= 4)
    await alice.leave()
    await eventually(lambda: len(received) >= 8)
    named = [name for name, _ in received if name != "presence_changed"]
    assert named == ["channel_occupied", "member_joined", "member_left", "channel_vacated"]
    joined = received[3][1]
    assert joined["member"].user == "alice" and joined["member"].info == {"name": "Alice"}
    assert (joined["channel"], joined["count"]) == (ROOM, 1)


def docs_python() -> list[str]:
    return code_blocks("presence.rst", "python")


@pytest.mark.django_db
def test_the_docs_presence_info_goes_in_the_users_token(settings: Any) -> None:
    module = types.ModuleType("presence_docs_info")
    exec(docs_python()[0], module.__dict__)
    sys.modules[module.__name__] = module
    try:
        settings.TELEGRAPHY = {**settings.TELEGRAPHY, "PRESENCE_INFO": "presence_docs_info.info"}
        ann = User.objects.create_user("ann")
        token, _ = tokens.token_for(ann)
        assert read_token(settings.TELEGRAPHY["SECRET"], token).info == {"name": "ann"}
        anonymous, _ = tokens.token_for(AnonymousUser())
        assert read_token(settings.TELEGRAPHY["SECRET"], anonymous).info is None
    finally:
        del sys.modules[module.__name__]


def test_the_docs_django_receivers_log_joins_and_vacated_channels(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    namespace: dict[str, Any] = {"__name__": "chat.signals"}
    exec(docs_python()[1], namespace)
    member = {"client_id": "c1", "user": "42", "info": None}
    body = json.dumps(
        {
            "events": [
                {"name": "member_joined", "channel": ROOM, "time": 1, "member": member, "count": 1},
                {"name": "channel_vacated", "channel": ROOM, "time": 2},
            ]
        }
    ).encode()
    try:
        with caplog.at_level(logging.INFO, logger="chat"):
            headers = sign_request(settings.TELEGRAPHY["SECRET"], "POST", PATH, body)
            assert post(Client(), body, headers).status_code == 200
    finally:
        presence.member_joined.disconnect(namespace["joined"])
        presence.channel_vacated.disconnect(namespace["vacated"])
    assert caplog.messages == [f"42 joined {ROOM} (1 here)", f"{ROOM} is empty"]
