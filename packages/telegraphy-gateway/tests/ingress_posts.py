"""Events for the ingress, and POSTs of them signed with the token tests' shared secret."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from typing import Any

from ticket_peers import SECRET

from telegraphy.core import sign_request


def event(n: int, name: str = "shop.Order") -> dict[str, Any]:
    """An envelope with `n` as its data, under a fresh meta.id."""
    return {
        "name": name,
        "meta": {
            "event_type": "create",
            "verbose_name": "Order",
            "timestamp": "2026-01-01T12:00:00Z",
            "id": f"order-{n}-{secrets.token_hex(4)}",
        },
        "data": {"n": n},
    }


def post(port: int, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
    """A POST signed with the shared secret (a fresh nonce each time): the status, the parsed
    answer and the headers (lower-cased)."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **sign_request(SECRET, "POST", path, raw)}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=raw, headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
        return response.status, answer, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


class SteadySender:
    """Sends events 0..count-1 through a publisher at a steady rate, in a thread of its own
    (it goes on while a test kills or restarts things); `sent` counts what it handed over."""

    def __init__(self, publisher: Any, count: int, interval: float) -> None:
        self.publisher = publisher
        self.count = count
        self.interval = interval
        self.sent = 0

    def start(self) -> Any:
        """The Deferred of the thread's end."""
        from twisted.internet import threads

        return threads.deferToThread(self._run)

    def _run(self) -> None:
        for n in range(self.count):
            self.publisher.send(event(n))
            self.sent += 1
            time.sleep(self.interval)  # a steady rate, not synchronisation
