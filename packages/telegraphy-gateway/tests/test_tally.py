"""The delivery tally in process: the events and bytes counted per publication and codec
group are exactly those written, whoever the publisher's options leave out."""

from __future__ import annotations

from in_process import Recorder, joined, memory_realm, receive
from telegraphy.gateway import GatewayConfig
from telegraphy.gateway.router.realm import Realm
from telegraphy.gateway.router.tally import DeliveryTally
from telegraphy.gateway.session import Session


def subscribed(realm: Realm, protocols: list[str]) -> list[tuple[Session, Recorder]]:
    sessions = [joined(realm, p) for p in protocols]
    for session, transport in sessions:
        receive(session, [32, 1, {}, "app.topic"])
        transport.frames.clear()
    return sessions


def written(transports: list[Recorder]) -> tuple[int, dict[str, int]]:
    sizes: dict[str, int] = {}
    for transport in transports:
        name = transport.codec.name
        sizes[name] = sizes.get(name, 0) + sum(len(frame) for frame in transport.frames)
    return sum(len(t.frames) for t in transports), sizes


def test_counts_are_the_writes_whatever_the_audience() -> None:
    realm = memory_realm(GatewayConfig())
    tally = realm.broker.tally
    sessions = subscribed(realm, ["wamp.2.json"] * 3 + ["wamp.2.msgpack"] * 2 + ["wamp.2.cbor"])
    publisher = sessions[0][0]  # subscribed too: left out by exclude_me
    receive(publisher, [16, 2, {}, "app.topic", ["all but me"]])
    eligible = [sessions[1][0].id, sessions[4][0].id]
    receive(publisher, [16, 3, {"eligible": eligible}, "app.topic", ["two"]])
    receive(publisher, [16, 4, {"exclude_me": False}, "app.topic", ["everyone"]])

    count, sizes = written([t for _, t in sessions])
    assert count == 5 + 2 + 6
    assert tally.deliveries == count
    assert {k: v for k, v in tally.bytes_out.items() if v} == sizes
    assert sum(tally.latency_counts) == 3  # one observation per publication


def test_latency_is_bucketed_from_the_acceptance_time() -> None:
    now = [100.0]
    tally = DeliveryTally(clock=lambda: now[0], bounds=(0.001, 0.01, 0.1))
    for accepted in (99.9995, 99.995, 99.95, 90.0):
        tally.delivered(accepted)
    assert tally.latency_counts == [1, 1, 1, 1]
    assert tally.latency_buckets() == [("0.001", 1), ("0.01", 2), ("0.1", 3), ("+Inf", 4)]
    assert abs(tally.latency_sum - (0.0005 + 0.005 + 0.05 + 10.0)) < 1e-9
