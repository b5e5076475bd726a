"""Presence webhooks as the web application receives them: the gateway POSTs
`{"events": [...]}`, signed as an ingress request is (the same headers, the same secret), and
the adapters turn each event into a signal (docs/presence.rst)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._names import validate_event_name
from ._signing import DEFAULT_WINDOW, NonceCache, verify_request

PRESENCE_TOPIC_PREFIX = "telegraphy.presence"
"""The joins and leaves of channel `chat.room-1` are published on
`telegraphy.presence.chat.room-1`, whatever the channel prefix."""
CHANNEL_OCCUPIED = "channel_occupied"
CHANNEL_VACATED = "channel_vacated"
MEMBER_JOINED = "member_joined"
MEMBER_LEFT = "member_left"
PRESENCE_EVENTS = (CHANNEL_OCCUPIED, CHANNEL_VACATED, MEMBER_JOINED, MEMBER_LEFT)


def presence_topic(channel: str) -> str:
    """The topic of the joins and leaves of `channel` (a channel name)."""
    return f"{PRESENCE_TOPIC_PREFIX}.{validate_event_name(channel)}"


@dataclass(frozen=True)
class PresenceMember:
    client_id: str
    user: str | None = None
    info: Any = None


@dataclass(frozen=True)
class PresenceEvent:
    """One change of a channel's presence. `member` and `count` (members after the change)
    are given for member_joined and member_left."""

    name: str
    channel: str
    time: float
    member: PresenceMember | None = None
    count: int | None = None

    def arguments(self) -> dict[str, Any]:
        """What the adapters' signal receivers get: the event, and its fields by name."""
        return {
            "event": self,
            "channel": self.channel,
            "member": self.member,
            "count": self.count,
            "time": self.time,
        }


def read_presence_webhook(
    secret: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    nonces: NonceCache,
    window: float = DEFAULT_WINDOW,
) -> list[PresenceEvent]:
    """The events of a genuine webhook POSTed to `path`; `SignatureError` if it is not signed
    with `secret` (checked in constant time), ValueError if its body is not a webhook's."""
    verify_request(secret, "POST", path, headers, body, nonces, window)
    try:
        events = json.loads(body)["events"]
        return [_event(event) for event in events]
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"not a presence webhook: {e!r}") from None


def _event(data: Mapping[str, Any]) -> PresenceEvent:
    name, channel, time = data["name"], data["channel"], data["time"]
    if name not in PRESENCE_EVENTS or not isinstance(channel, str):
        raise TypeError(f"unknown event {name!r} on {channel!r}")
    member = data.get("member")
    return PresenceEvent(
        name,
        channel,
        float(time),
        None if member is None else PresenceMember(**member),
        data.get("count"),
    )
