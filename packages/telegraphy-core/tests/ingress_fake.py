"""A small ingress server for the core's tests: it checks signatures like the gateway does,
records what it accepts, and answers as a test scripts it; and the fixtures around it."""

from __future__ import annotations

import json
import socket
import threading
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from telegraphy.core import NonceCache, Settings, SignatureError, verify_request

SECRET = "core-tests-secret-0123456789"


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


class FakeIngress:
    """POST /ingress/events and /ingress/xmlrpc on a real socket, in a thread.

    `script` answers the next requests (then 200); `refuse(envelope)` returning a reason
    makes the whole batch fail with 422 (naming the index when `say_index`).
    """

    def __init__(self, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.requests = 0
        self.connections: set[int] = set()
        self.script: list[Answer] = []
        self.refuse: Callable[[dict[str, Any]], str | None] = lambda envelope: None
        self.say_index = True
        self.lock = threading.Lock()
        self.nonces = NonceCache()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        """(status, body, content type) for one request."""
        with self.lock:
            self.requests += 1
            try:
                verify_request(SECRET, "POST", path, headers, body, self.nonces)
            except SignatureError as e:
                return _json(401, {"error": e.code, "message": str(e)})
            if self.script:
                answer = self.script.pop(0)
                return _json(answer.status, answer.body)
            if path.endswith("/ingress/xmlrpc"):
                return self._xmlrpc(body)
            events = json.loads(body)["events"]
            refusal = self._refusal(events)
            if refusal is not None:
                return _json(422, refusal)
            self.received.extend(events)
            return _json(200, {"published": len(events), "ids": [e["meta"]["id"] for e in events]})

    def _refusal(self, events: list[dict[str, Any]]) -> dict[str, Any] | None:
        for index, envelope in enumerate(events):
            reason = self.refuse(envelope)
            if reason is not None:
                body: dict[str, Any] = {"error": "invalid_event", "message": reason}
                if self.say_index:
                    body["index"] = index
                return body
        return None

    def _xmlrpc(self, body: bytes) -> tuple[int, bytes, str]:
        (events,), method = xmlrpc.client.loads(body)
        assert method == "send_events"
        for envelope in events:
            reason = self.refuse(envelope)
            if reason is not None:
                fault = xmlrpc.client.dumps(xmlrpc.client.Fault(422, reason), methodresponse=True)
                return 200, fault.encode(), "text/xml"
        self.received.extend(events)
        answer = xmlrpc.client.dumps((len(events),), methodresponse=True, allow_none=True)
        return 200, answer.encode(), "text/xml"


def _json(status: int, body: dict[str, Any]) -> tuple[int, bytes, str]:
    return status, json.dumps(body).encode(), "application/json"


def _handler(ingress: FakeIngress) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the gateway does
        wbufsize = -1  # the answer in one write: no Nagle and delayed-ACK stall per request

        def do_POST(self) -> None:
            ingress.connections.add(self.client_address[1])
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, answer, kind = ingress.answer(self.path, self.headers, body)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def ingress() -> Iterator[FakeIngress]:
    server = FakeIngress()
    yield server
    server.stop()


@pytest.fixture
def hanging_url() -> Iterator[str]:
    """A server that accepts connections (in the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (yet): connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(url: str, **overrides: Any) -> Settings:
    return Settings(secret=SECRET, gateway_url=url, **overrides)


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    return settings


def envelope(n: int, **data: Any) -> dict[str, Any]:
    return {
        "name": "tests.Numbered",
        "meta": {"event_type": "custom", "timestamp": "2025-01-01T00:00:00Z", "id": f"e{n}"},
        "data": {"n": n, **data},
    }


@pytest.fixture
def make_envelope() -> Callable[..., dict[str, Any]]:
    return envelope
