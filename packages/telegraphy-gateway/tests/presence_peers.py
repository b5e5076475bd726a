"""Peers for the presence tests: members (browser sessions subscribed to a channel with the
`presence` option), watchers of a channel's presence topic, and the `telegraphy.presence`
procedure, all as raw WAMP so every detail on the wire can be read."""

from __future__ import annotations

import itertools
from typing import Any

from ticket_peers import CHANNELS, SECRET, ticket_join

from raw_wamp import CALL, EVENT, RESULT, SUBSCRIBE, SUBSCRIBED, WampPeer
from telegraphy.core import Grants, mint_token

ROOM = "chat.room-1"
ROOM_TOPIC = f"{CHANNELS}.{ROOM}"
ROOM_PRESENCE = f"telegraphy.presence.{ROOM}"
_requests = itertools.count(1000)


def room_token(user: str | None, info: Any = None, secret: str = SECRET) -> str:
    return mint_token(secret, user, Grants(subscribe_channels=(ROOM,)), 60, info=info)


async def subscribe(peer: WampPeer, topic: str, options: dict[str, Any]) -> list[Any]:
    """SUBSCRIBE and the router's answer (SUBSCRIBED or ERROR)."""
    return await peer.request(SUBSCRIBE, next(_requests), options, topic)


async def member(url: str, user: str | None, info: Any = None, secret: str = SECRET) -> WampPeer:
    """A browser session present in the room."""
    peer = await ticket_join(url, room_token(user, info, secret))
    answer = await subscribe(peer, ROOM_TOPIC, {"presence": True})
    assert answer[0] == SUBSCRIBED, answer
    return peer


async def watcher(url: str) -> WampPeer:
    """A browser session that sees the room's joins and leaves without being present."""
    peer = await ticket_join(url, room_token("watcher"))
    answer = await subscribe(peer, ROOM_PRESENCE, {})
    assert answer[0] == SUBSCRIBED, answer
    return peer


async def change(peer: WampPeer) -> dict[str, Any]:
    """The next join or leave event `peer` receives."""
    message = await peer.expect(EVENT)
    event: dict[str, Any] = message[4][0]
    return event


def summary(event: dict[str, Any]) -> tuple[str, str | None, int]:
    return event["kind"], event["member"]["user"], event["count"]


async def presence(peer: WampPeer, channel: str = ROOM) -> list[Any]:
    """The answer to `telegraphy.presence` (RESULT or ERROR)."""
    return await peer.request(CALL, next(_requests), {}, "telegraphy.presence", [channel])


async def users_present(peer: WampPeer) -> list[str | None]:
    answer = await presence(peer)
    assert answer[0] == RESULT, answer
    listed = answer[3][0]
    assert listed["count"] == len(listed["members"]), listed
    return sorted((m["user"] for m in listed["members"]), key=lambda user: user or "")


async def resume(url: str, peer: WampPeer) -> WampPeer:
    """`peer`'s client, back on a new connection (its subscriptions restored)."""
    return await ticket_join(url, "", previous=peer.details["authextra"]["client_id"])


async def drop(peer: WampPeer) -> None:
    """Lose `peer`'s connection without a GOODBYE (a page closed, a network gone)."""
    peer.raw.protocol.transport.abortConnection()
    await peer.closed()
