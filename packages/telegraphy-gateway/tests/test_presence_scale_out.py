"""Presence across gateways sharing one Redis: a member on one gateway is seen from another, a
client that moves to another gateway within the leave delay does not flap, and the members of
a gateway killed with SIGKILL leave within the presence timeout."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from presence_peers import change, drop, member, resume, summary, users_present, watcher
from redis_server import RedisServer
from test_scale_out import Cluster
from ticket_peers import SECRET
from webhook_receiver import WebhookReceiver

from gateway_harness import eventually

LEAVE_DELAY = 1.0
TIMEOUT = 2.0
BOUND = TIMEOUT * 4 / 3  # docs/presence.rst: a silent gateway's members leave within this


@pytest.fixture
def webhooks() -> Any:
    receiver = WebhookReceiver(SECRET)
    receiver.url = receiver.listen()
    yield receiver
    receiver.stop()


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisServer, webhooks: Any) -> Any:
    made = Cluster(tmp_path, redis_server, 0)
    made.config += (
        f"\n[presence]\nleave_delay = {LEAVE_DELAY}\ntimeout = {TIMEOUT}\n"
        f'webhook_url = "{webhooks.url}"\n'
    )
    made.add()
    made.add()
    yield made
    output = made.stop()
    assert "Traceback" not in output and "Unhandled" not in output, output


@pytest_twisted.ensureDeferred
async def test_members_are_shared_and_a_killed_gateways_members_leave_within_the_timeout(
    cluster: Cluster, webhooks: WebhookReceiver
) -> None:
    doomed, survivor = cluster.gateways
    room = await watcher(survivor.url)
    alice = await member(doomed.url, "alice")
    assert summary(await change(room)) == ("join", "alice", 1)
    carol = await member(doomed.url, "carol")
    assert summary(await change(room)) == ("join", "carol", 2)
    await member(doomed.url, "bob")
    assert summary(await change(room)) == ("join", "bob", 3)
    assert await users_present(room) == ["alice", "bob", "carol"]

    # Alice moves to the other gateway within the leave delay; carol goes for good: her leave
    # comes a leave delay after alice's would have, with no change of alice's in between.
    await drop(alice)
    moved = await resume(survivor.url, alice)
    await drop(carol)
    assert summary(await change(room)) == ("leave", "carol", 2)
    # A webhook is sent by the gateway that made the change: this one, before it dies.
    await eventually(lambda: ("member_left", "carol") in webhooks.names())

    cluster.kill(doomed)
    killed = time.monotonic()
    assert summary(await change(room)) == ("leave", "bob", 1)
    assert time.monotonic() - killed < BOUND + 1.0  # one second for a loaded machine
    assert await users_present(room) == ["alice"]
    await moved.leave()
    assert summary(await change(room)) == ("leave", "alice", 0)
    await room.leave()
    # Each change reached the web application once, whichever gateway made it.
    await eventually(lambda: len(webhooks.events) >= 8)
    assert webhooks.names() == [
        ("channel_occupied", None),
        ("member_joined", "alice"),
        ("member_joined", "carol"),
        ("member_joined", "bob"),
        ("member_left", "carol"),
        ("member_left", "bob"),
        ("member_left", "alice"),
        ("channel_vacated", None),
    ]
    assert webhooks.refused == 0
