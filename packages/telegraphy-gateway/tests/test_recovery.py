"""Recovery in process: positions on EVENTs, replay of what a subscriber missed before any
live event, gap reports, persistent subscriptions and the history RPC.

Pure router logic on the in-memory engine: sessions sit on recording transports.
"""

from __future__ import annotations

from typing import Any

from in_process import JSON, Recorder, joined, memory_realm, receive
from telegraphy.gateway import GatewayConfig
from telegraphy.gateway.config import HistoryConfig
from telegraphy.gateway.router.realm import Realm
from telegraphy.gateway.router.uri import Pattern
from telegraphy.gateway.session import Session

TOPIC = "app.orders"


def realm_with(history: HistoryConfig | None = None) -> Realm:
    return memory_realm(GatewayConfig(history=history or HistoryConfig()))


def publish(session: Session, *values: Any, topic: str = TOPIC) -> None:
    for n, value in enumerate(values):
        receive(session, [16, 100 + n, {}, topic, [value]])


def subscribe(session: Session, options: dict[str, Any], topic: str = TOPIC) -> None:
    receive(session, [32, 7, options, topic])


def test_events_carry_their_position_and_offsets_grow_by_one_per_topic() -> None:
    realm = realm_with()
    publisher, _ = joined(realm)
    subscriber, seen = joined(realm)
    subscribe(subscriber, {})
    publish(publisher, "a", "b")
    publish(publisher, "x", topic="app.other")

    details = [event[3] for event in seen.events()]
    assert [d["offset"] for d in details] == [1, 2]
    assert len({d["epoch"] for d in details}) == 1


def test_a_subscriber_recovers_what_it_missed_in_order_before_live_events() -> None:
    realm = realm_with()
    publisher, _ = joined(realm)
    first, seen = joined(realm)
    subscribe(first, {})
    publish(publisher, 1, 2)
    position = seen.events()[-1][3]
    publish(publisher, 3, 4, 5)  # missed

    again, replay = joined(realm)
    since = {"positions": {TOPIC: {"offset": position["offset"], "epoch": position["epoch"]}}}
    subscribe(again, {"recover": since})
    publish(publisher, 6)

    events = replay.events()
    assert [e[4] for e in events if len(e) > 4] == [[3], [4], [5], [6]]
    assert [e[3].get("recovered") for e in events if len(e) > 4] == [True, True, True, None]
    report = events[3][3]["recovery"]
    assert report == [
        {"topic": TOPIC, "offset": 5, "epoch": position["epoch"], "recovered": 3, "gap": None}
    ]


def test_a_gap_is_reported_with_its_reason_and_nothing_is_replayed() -> None:
    realm = realm_with(HistoryConfig(size=2))
    publisher, _ = joined(realm)
    publish(publisher, 1, 2, 3, 4)
    reports = {}
    for name, position in {
        "too_old": {"offset": 0, "epoch": "x"},
        "epoch_changed": {"offset": 3, "epoch": "not-the-epoch"},
    }.items():
        session, seen = joined(realm)
        subscribe(session, {"recover": {"positions": {TOPIC: position}}})
        events = seen.events()
        assert len(events) == 1  # the report only
        reports[name] = events[0][3]["recovery"][0]["gap"]
    assert reports == {"too_old": "too_old", "epoch_changed": "epoch_changed"}


def test_more_than_max_recover_missed_is_a_too_many_gap() -> None:
    realm = realm_with(HistoryConfig(max_recover=2))
    publisher, _ = joined(realm)
    publish(publisher, 1)
    epoch = realm.engine.streams.top(TOPIC)
    assert epoch is not None
    publish(publisher, 2, 3, 4)
    session, seen = joined(realm)
    subscribe(session, {"recover": {"positions": {TOPIC: {"offset": 1, "epoch": epoch.epoch}}}})
    assert seen.events()[0][3]["recovery"][0]["gap"] == "too_many"


def test_a_recover_option_that_is_not_well_formed_is_refused() -> None:
    realm = realm_with()
    session, seen = joined(realm)
    for bad in [
        "yes",
        {"positions": {TOPIC: {"offset": -1, "epoch": "e"}}},
        {"positions": {"app.elsewhere": {"offset": 1, "epoch": "e"}}},
        {"since": "yesterday"},
        {"unknown": 1},
    ]:
        subscribe(session, {"recover": bad})
    errors = [m for m in seen.messages() if m[0] == 8]
    assert [e[4] for e in errors] == ["wamp.error.invalid_argument"] * 5


def test_the_history_rpc_gives_the_last_publications() -> None:
    realm = realm_with()
    publisher, seen = joined(realm)
    publish(publisher, 1, 2, 3)
    receive(publisher, [48, 9, {}, "telegraphy.history", [TOPIC, 2]])
    result = next(m for m in seen.messages() if m[0] == 50)[3][0]
    assert [e["args"] for e in result["events"]] == [[2], [3]]
    assert result["offset"] == 3


def anonymous(realm: Realm, authextra: dict[str, Any]) -> tuple[Session, Recorder]:
    transport = Recorder(JSON)
    session = Session(transport, realm)
    hello = {"roles": {"subscriber": {}}, "authmethods": ["anonymous"], "authextra": authextra}
    receive(session, [1, "telegraphy", hello])
    return session, transport


def test_a_resumed_pattern_subscription_recovers_topics_it_never_saw() -> None:
    public = (Pattern("public.", "prefix"),)
    realm = memory_realm(GatewayConfig(public=public))
    backend, _ = joined(realm)
    first, seen = anonymous(realm, {})
    client_id = seen.messages()[0][2]["authextra"]["client_id"]
    subscribe(first, {"match": "prefix"}, topic="public.")
    publish(backend, "a1", topic="public.a")
    position = seen.events()[-1][3]
    first.on_transport_closed()
    publish(backend, "a2", topic="public.a")
    publish(backend, "b1", topic="public.b")  # a topic the client never had a position for

    at = {"offset": position["offset"], "epoch": position["epoch"]}
    recover = {"positions": {"public.a": at}}
    _, again = anonymous(realm, {"previous_session": client_id, "recover": recover})

    welcome = again.messages()[0]
    assert welcome[2]["authextra"]["missed_events"] == "recovering"
    replayed = [e[4] for e in again.events() if len(e) > 4]
    assert sorted(replayed) == [["a2"], ["b1"]]
    report = again.events()[-1][3]["recovery"]
    assert {r["topic"]: (r["recovered"], r["gap"]) for r in report} == {
        "public.a": (1, None),
        "public.b": (1, None),
    }


def test_a_publication_some_serializer_cannot_carry_is_refused_before_anyone_gets_it() -> None:
    realm = realm_with()
    publisher, answers = joined(realm)
    subscriber, seen = joined(realm)
    subscribe(subscriber, {})
    seen.frames.clear()
    receive(publisher, [16, 5, {"acknowledge": True}, TOPIC, [float("nan")]])
    receive(publisher, [16, 6, {"acknowledge": True}, TOPIC, ["\ud800"]])
    receive(subscriber, [32, 8, {}, "app.\ud800"])

    errors = [m for m in answers.messages() if m[0] == 8]
    invalid = "wamp.error.invalid_argument"
    assert [(e[2], e[4]) for e in errors] == [(5, invalid), (6, invalid)]
    assert seen.events() == []  # nothing delivered, nothing kept
    assert realm.engine.streams.top(TOPIC) is None
    assert [m[4] for m in seen.messages() if m[0] == 8] == ["wamp.error.invalid_uri"]
