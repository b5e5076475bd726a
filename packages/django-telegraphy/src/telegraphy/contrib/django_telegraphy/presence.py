"""Presence webhooks from the gateway as Django signals (docs/presence.rst).

`presence_changed` is sent for every event, with its `name`; each name has its own signal too.
Receivers get `event` (a telegraphy.core.PresenceEvent) and its fields as keyword arguments:
`channel`, `member`, `count`, `time`.
"""

from __future__ import annotations

from django.dispatch import Signal
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

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

from .conf import get_settings

presence_changed = Signal()
channel_occupied = Signal()
channel_vacated = Signal()
member_joined = Signal()
member_left = Signal()

SIGNALS = {
    CHANNEL_OCCUPIED: channel_occupied,
    CHANNEL_VACATED: channel_vacated,
    MEMBER_JOINED: member_joined,
    MEMBER_LEFT: member_left,
}
_nonces = NonceCache()


@csrf_exempt  # signed with the shared secret instead
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    """POST from the gateway -> the signals; 401 when the signature is not the secret's."""
    secret = get_settings().core.secret
    try:
        events = read_presence_webhook(secret, request.path, request.headers, request.body, _nonces)
    except SignatureError as e:
        return JsonResponse({"error": e.code, "message": str(e)}, status=401)
    except ValueError as e:
        return JsonResponse({"error": "malformed", "message": str(e)}, status=400)
    for event in events:
        send(event)
    return JsonResponse({"received": len(events)})


def send(event: PresenceEvent) -> None:
    """Send `event` as `presence_changed` and as its own signal."""
    presence_changed.send(sender=PresenceEvent, name=event.name, **event.arguments())
    SIGNALS[event.name].send(sender=PresenceEvent, **event.arguments())
