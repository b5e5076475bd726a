"""Presence webhooks from the gateway as blinker signals (docs/presence.rst).

The extension's blueprint serves them at `<url_prefix>/presence` (POST, signed with the shared
secret). `presence_changed` is sent for every event with its `name`; each name has its own
signal too. The sender is the app; receivers get `event` (a telegraphy.core.PresenceEvent)
and its fields: `channel`, `member`, `count`, `time`.
"""

from __future__ import annotations

from blinker import Namespace
from flask import Response, current_app, jsonify, request

from telegraphy.core import (
    CHANNEL_OCCUPIED,
    CHANNEL_VACATED,
    MEMBER_JOINED,
    MEMBER_LEFT,
    NonceCache,
    PresenceEvent,
    SignatureError,
    read_presence_webhook,
)

from ._state import get_state

_signals = Namespace()
presence_changed = _signals.signal("telegraphy-presence-changed")
channel_occupied = _signals.signal("telegraphy-channel-occupied")
channel_vacated = _signals.signal("telegraphy-channel-vacated")
member_joined = _signals.signal("telegraphy-member-joined")
member_left = _signals.signal("telegraphy-member-left")

SIGNALS = {
    CHANNEL_OCCUPIED: channel_occupied,
    CHANNEL_VACATED: channel_vacated,
    MEMBER_JOINED: member_joined,
    MEMBER_LEFT: member_left,
}
_nonces = NonceCache()


def webhook_view() -> tuple[Response, int]:
    """POST from the gateway -> the signals; 401 when the signature is not the secret's."""
    secret = get_state().settings.core.secret
    try:
        events = read_presence_webhook(
            secret, request.path, dict(request.headers.items()), request.get_data(), _nonces
        )
    except SignatureError as e:
        return jsonify(error=e.code, message=str(e)), 401
    except ValueError as e:
        return jsonify(error="malformed", message=str(e)), 400
    for event in events:
        send(event)
    return jsonify(received=len(events)), 200


def send(event: PresenceEvent) -> None:
    """Send `event` as `presence_changed` and as its own signal, from the current app."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    presence_changed.send(app, name=event.name, **event.arguments())
    SIGNALS[event.name].send(app, **event.arguments())
