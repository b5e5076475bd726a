"""The publisher: send() never waits, delivery in order through failures, every bound loud."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingress_fake import Answer, FakeIngress
from telegraphy.core import (
    ConfigurationError,
    EventError,
    Publisher,
    PublisherClosed,
    PublisherOverflow,
    Settings,
    _publisher,
    configure,
    get_publisher,
)

MakeSettings = Callable[..., Settings]
MakeEnvelope = Callable[..., dict[str, Any]]
WAIT = 10.0


@pytest.fixture
def publishers() -> Iterator[Callable[[Settings], Publisher]]:
    """Makes publishers and closes them after the test (quickly: their gateway may be gone)."""
    made: list[Publisher] = []

    def make(settings: Settings) -> Publisher:
        made.append(Publisher(settings))
        return made[-1]

    yield make
    for publisher in made:
        publisher.close(timeout=0.2)


def numbers(ingress: FakeIngress) -> list[int]:
    return [envelope["data"]["n"] for envelope in ingress.received]


def test_events_arrive_once_and_in_order_through_failed_attempts(
    ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope, publishers: Any
) -> None:
    ingress.script += [Answer(503), Answer(429, {"error": "busy"}), Answer(500)]
    publisher = publishers(make_settings(ingress.url, batch_size=50, retry_max_delay=0.2))
    for n in range(500):
        publisher.send(make_envelope(n))
    assert publisher.flush(WAIT)
    assert numbers(ingress) == list(range(500))
    stats = publisher.stats
    assert (stats.sent, stats.delivered, stats.retries) == (500, 500, 3)
    assert (stats.queued, stats.spooled, stats.rejected, stats.dropped) == (0, 0, 0, 0)


def test_a_refused_event_is_isolated_dropped_loudly_and_the_rest_delivered(
    ingress: FakeIngress,
    make_settings: MakeSettings,
    make_envelope: MakeEnvelope,
    publishers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingress.refuse = lambda e: "bad" if e["data"].get("bad") else None
    bad = {13, 14, 77}
    for say_index in (True, False):  # the gateway names the event, or the batch is bisected
        ingress.received.clear()
        ingress.say_index = say_index
        publisher = publishers(make_settings(ingress.url, batch_size=32))
        for n in range(100):
            publisher.send(make_envelope(n, bad=n in bad))
        assert publisher.flush(WAIT)
        assert numbers(ingress) == [n for n in range(100) if n not in bad]
        assert publisher.stats.rejected == 3 and publisher.stats.delivered == 97
    dropped = [r for r in caplog.records if r.levelno == logging.ERROR and "refused" in r.message]
    assert len(dropped) == 6 and all("'e13'" in r.message for r in dropped[0::3])


def test_send_never_waits_for_a_gateway_that_hangs(
    hanging_url: str, make_settings: MakeSettings, make_envelope: MakeEnvelope, publishers: Any
) -> None:
    publisher = publishers(make_settings(hanging_url, timeout=60, queue_size=20_000))
    for n in range(10_000):
        publisher.send(make_envelope(n))
    # All were accepted while the worker sat in its first request, which lasts a minute.
    assert publisher.stats.sent == 10_000
    assert publisher.stats.delivered == 0 and publisher.stats.queued == 10_000
    assert not publisher.flush(0.05)


def test_full_memory_raises_or_drops_loudly(
    closed_port: int,
    make_settings: MakeSettings,
    make_envelope: MakeEnvelope,
    publishers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    raising = publishers(make_settings(url, queue_size=10))
    for n in range(10):
        raising.send(make_envelope(n))
    with pytest.raises(PublisherOverflow, match="queue_size=10"):
        raising.send(make_envelope(10))
    assert raising.stats.sent == 10 and raising.stats.queued == 10
    dropping = publishers(make_settings(url, queue_size=10, on_overflow="drop"))
    for n in range(12):
        dropping.send(make_envelope(n))
    assert dropping.stats.dropped == 2 and dropping.stats.queued == 10
    errors = [r.message for r in caplog.records if r.levelno == logging.ERROR]
    assert any("refused event" in m and "'e10'" in m for m in errors)
    assert any("dropped event" in m and "'e11'" in m and "2 dropped" in m for m in errors)


def test_memory_overflows_to_the_spool_and_everything_arrives_in_order(
    tmp_path: Path,
    closed_port: int,
    make_settings: MakeSettings,
    make_envelope: MakeEnvelope,
    publishers: Any,
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    settings = make_settings(
        url, queue_size=5, spool_path=str(tmp_path / "spool.db"), spool_size=10, batch_size=4
    )
    publisher = publishers(settings)
    for n in range(15):
        publisher.send(make_envelope(n))
    with pytest.raises(PublisherOverflow, match="spool_size=10"):
        publisher.send(make_envelope(15))
    assert (publisher.stats.queued, publisher.stats.spooled) == (5, 10)
    ingress = FakeIngress(closed_port)  # the gateway comes back
    try:
        assert publisher.flush(WAIT)
        for n in range(16, 20):  # the spool drained: memory serves again
            publisher.send(make_envelope(n))
        assert publisher.flush(WAIT)
        assert numbers(ingress) == [*range(15), *range(16, 20)]
        assert publisher.stats.spooled == 0
    finally:
        ingress.stop()


def test_the_spool_keeps_events_across_a_restart_and_they_go_first(
    tmp_path: Path,
    closed_port: int,
    make_settings: MakeSettings,
    make_envelope: MakeEnvelope,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        f"http://127.0.0.1:{closed_port}", queue_size=5, spool_path=str(tmp_path / "spool.db")
    )
    first = Publisher(settings)
    for n in range(20):
        first.send(make_envelope(n))
    first.close(timeout=0.2)  # the gateway is down: memory goes to the spool, before the rest
    assert first.stats.dropped == 0
    assert any("5 event(s) kept in the spool" in r.message for r in caplog.records)
    with pytest.raises(PublisherClosed):
        first.send(make_envelope(99))
    ingress = FakeIngress(closed_port)
    second = Publisher(settings)
    try:
        second.send(make_envelope(20))
        assert second.flush(WAIT)
        assert numbers(ingress) == list(range(21))
    finally:
        second.close()
        ingress.stop()


def test_close_delivers_what_it_can_and_reports_what_is_lost(
    ingress: FakeIngress,
    closed_port: int,
    make_settings: MakeSettings,
    make_envelope: MakeEnvelope,
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivering = Publisher(make_settings(ingress.url))
    for n in range(50):
        delivering.send(make_envelope(n))
    delivering.close()
    assert numbers(ingress) == list(range(50))
    stranded = Publisher(make_settings(f"http://127.0.0.1:{closed_port}"))
    for n in range(7):
        stranded.send(make_envelope(n))
    stranded.close(timeout=0.2)
    assert stranded.stats.dropped == 7
    assert any(
        r.levelno == logging.ERROR and "7 undelivered event(s)" in r.message for r in caplog.records
    )


def test_xmlrpc_publisher_refuses_what_xmlrpc_cannot_carry_at_send(
    ingress: FakeIngress, make_settings: MakeSettings, make_envelope: MakeEnvelope, publishers: Any
) -> None:
    publisher = publishers(make_settings(ingress.url, transport="xmlrpc"))
    with pytest.raises(EventError, match="32-bit"):
        publisher.send(make_envelope(2**40))
    publisher.send(make_envelope(1))
    assert publisher.flush(WAIT)
    assert numbers(ingress) == [1] and publisher.stats.sent == 1


def test_a_forked_child_starts_empty_and_cannot_share_the_spool(
    tmp_path: Path, closed_port: int, make_settings: MakeSettings, make_envelope: MakeEnvelope
) -> None:
    settings = make_settings(
        f"http://127.0.0.1:{closed_port}", spool_path=str(tmp_path / "spool.db")
    )
    publisher = Publisher(settings)
    publisher.send(make_envelope(1))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it sees, and leave without running pytest's exit
        try:
            publisher.send(make_envelope(2))
            outcome = "sent"
        except ConfigurationError as e:
            outcome = f"{publisher.stats.queued} {e}"
        os.write(write, outcome.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        outcome = pipe.read()
    os.waitpid(pid, 0)
    assert outcome.startswith("0 spool_path") and "in use by another process" in outcome
    assert publisher.stats.queued == 1  # the parent's event stays the parent's
    publisher.close(timeout=0.2)


def test_the_default_publisher(
    monkeypatch: pytest.MonkeyPatch, ingress: FakeIngress, make_envelope: MakeEnvelope
) -> None:
    monkeypatch.setattr(_publisher, "_default", None)
    monkeypatch.delenv("TELEGRAPHY_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="configure"):
        get_publisher()
    from ingress_fake import SECRET

    first = configure({"secret": SECRET, "gateway_url": ingress.url})
    assert get_publisher() is first and _publisher.default_publisher() is first
    first.send(make_envelope(1))
    second = configure(Settings(secret=SECRET, gateway_url=ingress.url))
    assert get_publisher() is second  # the first was closed, its event delivered
    assert numbers(ingress) == [1]
    with pytest.raises(PublisherClosed):
        first.send(make_envelope(2))
    second.close()
    monkeypatch.setenv("TELEGRAPHY_SECRET", SECRET)
    monkeypatch.setattr(_publisher, "_default", None)
    assert get_publisher().settings.secret == SECRET
