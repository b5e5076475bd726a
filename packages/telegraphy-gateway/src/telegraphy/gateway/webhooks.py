"""Presence webhooks: the changes this gateway made, POSTed to the web application, signed with
the shared secret as the ingress's requests are (docs/presence.rst).

A bounded queue, sent in order in batches; a batch that fails is sent again with a growing
delay, and dropped (with a log line) after the configured number of attempts. With several
gateways, each change is made by one of them (engines/redis_presence.py), which sends it.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import Agent, FileBodyProducer
from twisted.web.http_headers import Headers

from telegraphy.core import sign_request

from .engines.base import JOIN, LEAVE, PresenceChange
from .errors import GatewayError

log = Logger()

MAX_BATCH = 100
MAX_BACKOFF = 30.0


def webhook_events(change: PresenceChange, channel: str, now: float) -> list[dict[str, Any]]:
    """What a change tells the web application: the member's join or leave, and the channel
    becoming occupied (its first member) or vacated (its last one left)."""
    base = {"channel": channel, "time": now}
    name = "member_joined" if change.kind == JOIN else "member_left"
    events = [{**base, "name": name, "member": change.member.wire(), "count": change.count}]
    if change.kind == JOIN and change.count == 1:
        events.insert(0, {**base, "name": "channel_occupied"})
    if change.kind == LEAVE and change.count == 0:
        events.append({**base, "name": "channel_vacated"})
    return events


class PresenceWebhooks:
    def __init__(
        self,
        url: str,
        secret: str,
        *,
        attempts: int,
        capacity: int,
        timeout: float,
        reactor: Any,
    ) -> None:
        self._url = url
        self._path = urlsplit(url).path or "/"
        self._secret = secret
        self._attempts = attempts
        self._capacity = capacity
        self._timeout = timeout
        self._reactor: IReactorTime = reactor
        self._agent = Agent(reactor, connectTimeout=timeout)
        self._queue: deque[dict[str, Any]] = deque()
        self._sending = False
        self._failures = 0
        self.delivered = 0
        self.dropped = 0

    def changed(self, change: PresenceChange, channel: str) -> None:
        for event in webhook_events(change, channel, time.time()):
            if len(self._queue) >= self._capacity:
                log.warn(
                    "dropping presence webhook {name} on {channel}: {n} are waiting",
                    name=event["name"],
                    channel=channel,
                    n=len(self._queue),
                    event="webhook.dropped",
                )
                self.dropped += 1
                continue
            self._queue.append(event)
        if not self._sending and self._queue:
            self._sending = True
            self._reactor.callLater(0, self._send)

    def _send(self) -> None:
        batch = [self._queue[i] for i in range(min(MAX_BATCH, len(self._queue)))]
        body = json.dumps({"events": batch}, separators=(",", ":")).encode()
        headers = sign_request(self._secret, "POST", self._path, body)
        headers["Content-Type"] = "application/json"
        sent: Deferred[Any] = self._agent.request(
            b"POST",
            self._url.encode(),
            Headers({k: [v] for k, v in headers.items()}),
            FileBodyProducer(BytesIO(body)),
        )
        sent.addTimeout(self._timeout, self._reactor)
        sent.addCallback(self._answered)
        sent.addCallbacks(lambda _: self._done(len(batch)), self._failed, errbackArgs=(batch,))

    def _answered(self, response: Any) -> Deferred[None]:
        read: Deferred[None] = Deferred()
        response.deliverBody(_Discard(read))
        if not 200 <= response.code < 300:
            read.addCallback(_refused, response.code)
        return read

    def _done(self, count: int) -> None:
        for _ in range(count):
            self._queue.popleft()
        self.delivered += count
        self._failures = 0
        self._next(0.0)

    def _failed(self, failure: Failure, batch: list[dict[str, Any]]) -> None:
        self._failures += 1
        if self._failures >= self._attempts:
            log.warn(
                "dropping {n} presence webhooks after {a} attempts to {url}: {why}",
                n=len(batch),
                a=self._failures,
                url=self._url,
                why=failure.getErrorMessage(),
                event="webhook.dropped",
            )
            for _ in batch:
                self._queue.popleft()
            self.dropped += len(batch)
            self._failures = 0
            self._next(0.0)
            return
        delay = min(MAX_BACKOFF, 0.5 * 2 ** (self._failures - 1)) * (0.5 + random.random() / 2)
        log.info(
            "presence webhook to {url} failed ({why}); again in {s:.1f} s",
            url=self._url,
            why=failure.getErrorMessage(),
            s=delay,
            event="webhook.retrying",
        )
        self._next(delay)

    def _next(self, delay: float) -> None:
        if self._queue:
            self._reactor.callLater(delay, self._send)
        else:
            self._sending = False


class WebhookRefused(GatewayError):
    """The web application answered a webhook with a status other than 2xx."""


def _refused(_: None, code: int) -> None:
    raise WebhookRefused(f"the web application answered {code}")


class _Discard(Protocol):
    """Reads an answer's body and forgets it (the status says all)."""

    def __init__(self, done: Deferred[None]) -> None:
        self._done = done

    def dataReceived(self, data: bytes) -> None:
        pass

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._done.callback(None)
