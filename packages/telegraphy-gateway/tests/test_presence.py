"""Channel presence with real clients on one gateway: joins and leaves, a reconnect within the
leave delay that does not flap, the member list and count, and grants."""

from __future__ import annotations

import time

import pytest_twisted
from presence_peers import (
    ROOM_PRESENCE,
    ROOM_TOPIC,
    change,
    drop,
    member,
    presence,
    resume,
    subscribe,
    summary,
    ticket_join,
    users_present,
    watcher,
)
from ticket_peers import EVENTS, NOT_AUTHORIZED, token, token_config

from conftest import module_gateway
from gateway_harness import GatewayProcess
from raw_wamp import ERROR, PUBLISH, UNSUBSCRIBE, raw_join

LEAVE_DELAY = 2.0
gateway = module_gateway(token_config() + f"\n[presence]\nleave_delay = {LEAVE_DELAY}\n")
UNSUBSCRIBED = 35
INVALID = "wamp.error.invalid_argument"


@pytest_twisted.ensureDeferred
async def test_members_join_and_leave_with_their_info_and_the_count(
    gateway: GatewayProcess,
) -> None:
    room = await watcher(gateway.url)
    alice = await member(gateway.url, "alice", info={"name": "Alice"})
    joined = await change(room)
    assert joined["kind"] == "join" and joined["channel"] == "chat.room-1"
    assert joined["member"] == {
        "client_id": alice.details["authextra"]["client_id"],
        "user": "alice",
        "info": {"name": "Alice"},
    }
    anonymous = await member(gateway.url, None)
    assert summary(await change(room)) == ("join", None, 2)
    assert await users_present(room) == [None, "alice"]

    # An explicit unsubscribe leaves at once; a GOODBYE after the leave delay.
    started = time.monotonic()
    subscription = (await subscribe(alice, ROOM_TOPIC, {"presence": True}))[2]
    assert (await alice.request(UNSUBSCRIBE, 77, subscription))[0] == UNSUBSCRIBED
    assert summary(await change(room)) == ("leave", "alice", 1)
    assert time.monotonic() - started < LEAVE_DELAY
    await anonymous.leave()
    assert summary(await change(room)) == ("leave", None, 0)
    assert await users_present(room) == []
    await alice.leave()
    await room.leave()


@pytest_twisted.ensureDeferred
async def test_a_client_that_reconnects_within_the_leave_delay_does_not_flap(
    gateway: GatewayProcess,
) -> None:
    room = await watcher(gateway.url)
    bob = await member(gateway.url, "bob")
    assert summary(await change(room)) == ("join", "bob", 1)
    carol = await member(gateway.url, "carol")
    assert summary(await change(room)) == ("join", "carol", 2)

    await drop(bob)
    back = await resume(gateway.url, bob)  # its presence comes back with its subscriptions
    await drop(carol)  # and carol does not come back
    # The next change is carol's leave, a leave delay after she dropped: bob's would have
    # come first, and no join of bob's is in between.
    assert summary(await change(room)) == ("leave", "carol", 1)
    assert await users_present(room) == ["bob"]
    await back.leave()
    assert summary(await change(room)) == ("leave", "bob", 0)
    await room.leave()


@pytest_twisted.ensureDeferred
async def test_a_client_that_may_not_subscribe_to_the_channel_sees_nothing_of_its_presence(
    gateway: GatewayProcess,
) -> None:
    outsider = await ticket_join(gateway.url, token("mallory", channels=("chat.other",)))
    answer = await presence(outsider)
    assert answer[0] == ERROR and answer[4] == NOT_AUTHORIZED, answer
    answer = await subscribe(outsider, ROOM_PRESENCE, {})
    assert answer[0] == ERROR and answer[4] == NOT_AUTHORIZED, answer
    answer = await subscribe(outsider, "telegraphy.presence.", {"match": "prefix"})
    assert answer[0] == ERROR and answer[4] == NOT_AUTHORIZED, answer
    answer = await subscribe(outsider, ROOM_TOPIC, {"presence": True})
    assert answer[0] == ERROR and answer[4] == NOT_AUTHORIZED, answer
    await outsider.leave()


@pytest_twisted.ensureDeferred
async def test_presence_is_asked_for_on_channels_only_and_its_topics_are_the_routers(
    gateway: GatewayProcess,
) -> None:
    news = await ticket_join(gateway.url, token("dave"))
    answer = await subscribe(news, f"{EVENTS}.news.Story", {"presence": True})
    assert answer[0] == ERROR and answer[4] == INVALID, answer
    answer = await subscribe(news, f"{EVENTS}.news.Story", {"presence": "yes"})
    assert answer[0] == ERROR and answer[4] == INVALID, answer
    await news.leave()
    backend = await raw_join(gateway.url, backend=True, roles={"publisher": {}})
    answer = await backend.request(PUBLISH, 5, {"acknowledge": True}, ROOM_PRESENCE, [{}])
    assert answer[0] == ERROR and answer[4] == NOT_AUTHORIZED, answer
    await backend.leave()
