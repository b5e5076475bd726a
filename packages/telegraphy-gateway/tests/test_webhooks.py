"""Presence webhooks, in process against a real HTTP receiver: the events of a change, signed;
a failed batch sent again until it is taken, in order; one that keeps failing dropped after the
configured attempts, with a log line; a full queue drops what does not fit, with a log line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_twisted
from test_engines import until
from twisted.internet import reactor
from twisted.logger import LogEvent, formatEvent, globalLogPublisher
from twisted.web.server import Request
from webhook_receiver import WebhookReceiver

from telegraphy.gateway.engines.base import JOIN, LEAVE, Member, PresenceChange
from telegraphy.gateway.webhooks import PresenceWebhooks

SECRET = "webhook-secret-0123456789"
ANN = Member("c-ann", "ann")


class Flaky(WebhookReceiver):
    """Answers 500 to the first `failures` requests."""

    def __init__(self, failures: int) -> None:
        super().__init__(SECRET)
        self.failures = failures
        self.requests = 0

    def render_POST(self, request: Request) -> bytes:
        self.requests += 1
        if self.requests <= self.failures:
            request.setResponseCode(500)
            return b"busy"
        return super().render_POST(request)


@pytest.fixture
def logged() -> Iterator[list[str]]:
    lines: list[str] = []

    def observe(event: LogEvent) -> None:
        lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    yield lines
    globalLogPublisher.removeObserver(observe)


def sender(url: str, attempts: int = 5, capacity: int = 100) -> PresenceWebhooks:
    return PresenceWebhooks(
        url, SECRET, attempts=attempts, capacity=capacity, timeout=5.0, reactor=reactor
    )


@pytest_twisted.ensureDeferred
async def test_a_failed_batch_is_sent_again_until_taken_in_order() -> None:
    receiver = Flaky(failures=2)
    webhooks = sender(receiver.listen())
    try:
        webhooks.changed(PresenceChange(JOIN, "telegraphy.channel.chat.a", ANN, 1), "chat.a")
        webhooks.changed(PresenceChange(LEAVE, "telegraphy.channel.chat.a", ANN, 0), "chat.a")
        await until(lambda: webhooks.delivered == 4, "the webhooks delivered")
    finally:
        await receiver.stop()
    assert receiver.requests >= 3 and receiver.refused == 0
    assert receiver.names() == [
        ("channel_occupied", None),
        ("member_joined", "ann"),
        ("member_left", "ann"),
        ("channel_vacated", None),
    ]
    assert receiver.events[1].member is not None and receiver.events[1].count == 1


@pytest_twisted.ensureDeferred
async def test_a_batch_that_keeps_failing_is_dropped_with_a_log_line(logged: list[str]) -> None:
    receiver = Flaky(failures=2)
    webhooks = sender(receiver.listen(), attempts=2, capacity=3)
    try:
        change = PresenceChange(JOIN, "telegraphy.channel.chat.a", ANN, 1)
        webhooks.changed(change, "chat.a")  # two events
        webhooks.changed(change, "chat.a")  # one fits in the queue
        await until(lambda: any("dropping 3 presence webhooks" in line for line in logged), "drop")
        webhooks.changed(PresenceChange(LEAVE, "telegraphy.channel.chat.a", ANN, 1), "chat.a")
        await until(lambda: webhooks.delivered == 1, "the next one delivered")
    finally:
        await receiver.stop()
    assert any("dropping presence webhook member_joined on chat.a" in line for line in logged)
    assert receiver.names() == [("member_left", "ann")]
    assert (webhooks.delivered, webhooks.dropped) == (1, 4)
