"""The router's side of presence, in process with a clock the test moves: a member whose
session ends leaves after the leave delay, not before; one that resumes within it neither
leaves nor joins again; two subscriptions to one channel are one membership; a backend leaves
at once."""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock

from in_process import JSON, Recorder, joined, receive
from raw_wamp import sign
from telegraphy.gateway import GatewayConfig
from telegraphy.gateway.config import Backend
from telegraphy.gateway.engines import MemoryEngine
from telegraphy.gateway.router.realm import Realm
from telegraphy.gateway.router.uri import Pattern
from telegraphy.gateway.session import Session

ROOM = "telegraphy.channel.chat.room-1"
CONFIG = GatewayConfig(
    public=(Pattern("telegraphy.channel.chat.", "prefix"),),
    backends=(Backend("worker", "worker-secret-0123456789"),),
)
DELAY = CONFIG.presence.leave_delay


def realm_with_clock() -> tuple[Realm, Clock]:
    clock = Clock()
    engine = MemoryEngine(CONFIG.history.policy, CONFIG.history.dedupe_window)
    return Realm(CONFIG, engine, clock), clock


def visitor(realm: Realm, previous: str | None = None) -> tuple[Session, Recorder]:
    """An anonymous browser session (it has a client id), resuming `previous` if given."""
    transport = Recorder(JSON)
    session = Session(transport, realm)
    extra = {} if previous is None else {"previous_session": previous}
    hello = {"roles": {"subscriber": {}}, "authmethods": ["anonymous"], "authextra": extra}
    receive(session, [1, "telegraphy", hello])
    assert session.state == "established", transport.messages()
    return session, transport


def program(realm: Realm) -> Session:
    """A backend session (WAMP-CRA): it has no client id."""
    transport = Recorder(JSON)
    session = Session(transport, realm)
    hello = {"roles": {"subscriber": {}}, "authmethods": ["wampcra"], "authid": "worker"}
    receive(session, [1, "telegraphy", hello])
    receive(session, [5, sign("worker-secret-0123456789", transport.messages()[-1]), {}])
    assert session.state == "established" and session.client_id is None
    return session


def watch(realm: Realm) -> Recorder:
    watcher, transport = joined(realm)
    receive(watcher, [32, 1, {}, "telegraphy.presence.chat.room-1"])
    transport.frames.clear()
    return transport


def changes(transport: Recorder) -> list[tuple[str, Any, int]]:
    found = [e[4][0] for e in transport.events()]
    transport.frames.clear()
    return [(c["kind"], c["member"]["client_id"], c["count"]) for c in found]


def test_a_member_leaves_after_the_delay_unless_it_resumes_within_it() -> None:
    realm, clock = realm_with_clock()
    room = watch(realm)
    ann, _ = visitor(realm)
    bob, _ = visitor(realm)
    receive(ann, [32, 2, {"presence": True}, ROOM])
    receive(ann, [32, 3, {"presence": True, "filter": {"x": 1}}, ROOM])  # still one member
    receive(bob, [32, 2, {"presence": True}, ROOM])
    assert changes(room) == [("join", ann.client_id, 1), ("join", bob.client_id, 2)]

    ann.on_transport_closed()
    bob.on_transport_closed()
    clock.advance(DELAY - 0.5)
    assert changes(room) == []
    back, _ = visitor(realm, previous=ann.client_id)
    clock.advance(DELAY)
    assert changes(room) == [("leave", bob.client_id, 1)]
    assert realm.engine.presence.members(ROOM).result[0].client_id == back.client_id

    back.on_transport_closed()
    clock.advance(DELAY)
    assert changes(room) == [("leave", ann.client_id, 0)]


def test_unsubscribing_from_the_last_subscription_leaves_at_once_and_a_backend_at_its_end() -> None:
    realm, _ = realm_with_clock()
    room = watch(realm)
    ann, transport = visitor(realm)
    receive(ann, [32, 2, {"presence": True}, ROOM])
    receive(ann, [32, 3, {"filter": {"x": 1}}, ROOM])
    ids = [m[2] for m in transport.messages() if m[0] == 33]
    receive(ann, [34, 4, ids[0]])
    assert changes(room) == [("join", ann.client_id, 1)]  # a subscription to it is left
    receive(ann, [34, 5, ids[1]])
    assert changes(room) == [("leave", ann.client_id, 0)]

    backend = program(realm)
    receive(backend, [32, 2, {"presence": True}, ROOM])
    backend.on_transport_closed()
    member = f"session-{backend.id}"
    assert changes(room) == [("join", member, 1), ("leave", member, 0)]


def test_a_watcher_that_resumes_keeps_watching() -> None:
    realm, _ = realm_with_clock()
    watcher, _ = visitor(realm)
    receive(watcher, [32, 2, {}, "telegraphy.presence.chat.room-1"])
    watcher.on_transport_closed()
    _, transport = visitor(realm, previous=watcher.client_id)
    welcome = transport.messages()[0]
    restored = [s["topic"] for s in welcome[2]["authextra"]["subscriptions"]]
    assert restored == ["telegraphy.presence.chat.room-1"]
    ann, _ = visitor(realm)
    receive(ann, [32, 2, {"presence": True}, ROOM])
    assert changes(transport) == [("join", ann.client_id, 1)]
