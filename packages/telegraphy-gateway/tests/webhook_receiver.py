"""A web application's presence webhook URL, in the test process: it checks each POST's
signature as the adapters do and keeps the events of the genuine ones."""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from telegraphy.core import NonceCache, SignatureError, read_presence_webhook

PATH = "/presence"


class WebhookReceiver(Resource):
    isLeaf = True

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret
        self._nonces = NonceCache()
        self.events: list[Any] = []
        self.refused = 0
        self._port: Any = None

    def listen(self) -> str:
        self._port = reactor.listenTCP(0, Site(self), interface="127.0.0.1")
        return f"http://127.0.0.1:{self._port.getHost().port}{PATH}"

    def stop(self) -> Any:
        return self._port.stopListening()

    def render_POST(self, request: Request) -> bytes:
        headers = {k.decode(): v[0].decode() for k, v in request.requestHeaders.getAllRawHeaders()}
        body = request.content.read() if request.content is not None else b""
        try:
            events = read_presence_webhook(self._secret, PATH, headers, body, self._nonces)
        except SignatureError:
            self.refused += 1
            request.setResponseCode(401)
            return b"{}"
        self.events.extend(events)
        return b"{}"

    def names(self) -> list[tuple[str, str | None]]:
        return [(e.name, e.member.user if e.member else None) for e in self.events]
