"""A subscriber that survives lost connections the way a browser client should: it remembers
the position of the last EVENT it saw on each topic and, on reconnecting, subscribes again
with `recover` from there. Raw WAMP, since autobahn drops SUBSCRIBE options it does not know."""

from __future__ import annotations

import json
from typing import Any

from raw_wamp import EVENT, SUBSCRIBE, SUBSCRIBED, WampPeer, raw_join


class RecoveringSubscriber:
    def __init__(self, topic: str, match: str = "exact") -> None:
        self.topic = topic
        self.match = match
        self.peer: WampPeer | None = None
        self.seen: list[tuple[str, Any]] = []  # (topic, first argument) of every EVENT
        self.positions: dict[str, dict[str, Any]] = {}  # topic -> {offset, epoch}, last seen
        self.epochs: set[str] = set()
        self.recovered = 0  # EVENTs flagged recovered
        self.reports: list[list[dict[str, Any]]] = []  # every recovery report's entries

    async def connect(self, url: str, *, recover: dict[str, Any] | None = None) -> None:
        """Join (as the backend) and subscribe; with `recover` (or, by default once something
        was seen, the positions last seen), replay what was missed first."""
        if self.peer is not None:
            self.read()  # what the lost connection delivered before it went
        self.peer = await raw_join(url, backend=True)
        options: dict[str, Any] = {} if self.match == "exact" else {"match": self.match}
        if recover is None and self.positions:
            recover = {"positions": dict(self.positions)}
        if recover is not None:
            options["recover"] = recover
        answer = await self.peer.request(SUBSCRIBE, 1, options, self.topic)
        assert answer[0] == SUBSCRIBED, answer

    def read(self) -> int:
        """Take in what has arrived (without waiting); the number of events seen so far."""
        assert self.peer is not None
        queue = self.peer.raw.factory.messages.pending
        while queue:
            message = json.loads(queue.pop(0))
            assert message[0] == EVENT, message
            self._event(message[3], message[4] if len(message) > 4 else None)
        return len(self.seen)

    def _event(self, details: dict[str, Any], args: list[Any] | None) -> None:
        if args is None:
            self.reports.append(details["recovery"])
            return
        topic = details.get("topic", self.topic)
        self.seen.append((topic, args[0]))
        self.positions[topic] = {"offset": details["offset"], "epoch": details["epoch"]}
        self.epochs.add(details["epoch"])
        self.recovered += bool(details.get("recovered"))

    def values(self, topic: str) -> list[Any]:
        return [value for seen_topic, value in self.seen if seen_topic == topic]

    @property
    def closed(self) -> bool:
        return self.peer is None or self.peer.is_closed
