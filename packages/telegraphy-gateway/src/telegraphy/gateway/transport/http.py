"""The gateway's HTTP site: the WebSocket endpoint at /ws and the health check at /health."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from autobahn.twisted.resource import WebSocketResource
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from .websocket import WampWebSocketFactory

if TYPE_CHECKING:
    from ..server import Gateway


class Health(Resource):
    """`GET /health`: 200 with a small JSON status while the gateway serves."""

    isLeaf = True

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._gateway = gateway

    def render_GET(self, request: Request) -> bytes:
        status = self._gateway.status()
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        return json.dumps(status).encode()


def build_site(gateway: Gateway, websocket: WampWebSocketFactory) -> Site:
    root = Resource()
    root.putChild(b"ws", WebSocketResource(websocket))
    root.putChild(b"health", Health(gateway))
    site = Site(root)
    site.noisy = False
    return site
