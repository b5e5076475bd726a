"""The gateway's HTTP site: the WebSocket endpoint at /ws, the health and readiness checks at
/health and /ready, and the ingress under /ingress."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from autobahn.twisted.resource import WebSocketResource
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from .ingress import (
    BoundedBody,
    Ingress,
    IngressDisabled,
    IngressRoot,
    JsonEndpoint,
    TokenEndpoint,
)
from .websocket import WampWebSocketFactory
from .xmlrpc import XmlRpcEndpoint

if TYPE_CHECKING:
    from ..config import GatewayConfig
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


class Ready(Resource):
    """`GET /ready`: 200 while the gateway should get traffic; 503 with the reasons while it is
    shutting down or its engine cannot keep publications (for load balancers)."""

    isLeaf = True

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._gateway = gateway

    def render_GET(self, request: Request) -> bytes:
        reasons = self._gateway.readiness()
        request.setResponseCode(503 if reasons else 200)
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        return json.dumps({"ready": not reasons, "reasons": reasons}).encode()


class GatewaySite(Site):
    """The site, with request bodies bounded: only the ingress takes bodies, and none larger
    than its `max_body_size` is kept (the rest is read and discarded, then answered 413)."""

    def __init__(self, root: Resource, max_body_size: int) -> None:
        # Form parsing would read bodies the ingress refuses; nothing here takes forms.
        super().__init__(root, parsePOSTFormSubmission=False)  # type: ignore[no-untyped-call]
        self.max_body_size = max_body_size
        self.noisy = False

    def getContentFile(self, length: int | None) -> BoundedBody:
        return BoundedBody(self.max_body_size, length)


def build_site(gateway: Gateway, websocket: WampWebSocketFactory) -> Site:
    root = Resource()
    root.putChild(b"ws", WebSocketResource(websocket))
    root.putChild(b"health", Health(gateway))
    root.putChild(b"ready", Ready(gateway))
    root.putChild(b"ingress", build_ingress(gateway))
    return GatewaySite(root, gateway.config.ingress.max_body_size)


def build_ingress(gateway: Gateway) -> Resource:
    """The ingress endpoints, one nonce cache per gateway; or a 404 while no secret is set."""
    config = gateway.config
    if config.secret is None:
        return IngressDisabled()
    ingress = Ingress(config, config.secret, gateway.realm.broker, lambda: gateway.accepting)
    root = IngressRoot()
    root.putChild(b"event", JsonEndpoint(ingress, batch=False))
    root.putChild(b"events", JsonEndpoint(ingress, batch=True))
    root.putChild(b"token", TokenEndpoint(ingress))
    root.putChild(b"xmlrpc", XmlRpcEndpoint(ingress))
    return root


def ingress_state(config: GatewayConfig) -> str:
    """The line logged at start: whether the ingress is on, and how to turn it on."""
    if config.secret is None:
        return "ingress disabled: set `secret` (or TELEGRAPHY_SECRET) to accept events"
    return (
        "ingress enabled: signed POSTs to /ingress/event, /ingress/events, /ingress/token "
        "and /ingress/xmlrpc"
    )
