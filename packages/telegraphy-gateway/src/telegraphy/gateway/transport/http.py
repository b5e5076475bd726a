"""The gateway's HTTP site: the WebSocket endpoint at /ws, the health and readiness checks at
/health and /ready, the ingress under /ingress, and /metrics and /stats for operators."""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING

from autobahn.twisted.resource import WebSocketResource
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from twisted.web import http
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from ..metrics import Metrics
from ..stats import DEFAULT_TOPICS, stats
from .channel import GatewayChannel
from .ingress import (
    BoundedBody,
    Ingress,
    IngressDisabled,
    IngressRoot,
    JsonEndpoint,
    TokenEndpoint,
    answer,
)
from .limits import Guard, parse_networks, within
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


class Protected(Resource):
    """A resource for the addresses in `[metrics] allow` or a request with
    `Authorization: Bearer <[metrics] token>`; 403 (401 with a token set) to others."""

    isLeaf = True

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._gateway = gateway  # its configuration, read on each request: SIGHUP changes it
        self._allow = (gateway.config.metrics.allow, parse_networks(gateway.config.metrics.allow))

    def render_GET(self, request: Request) -> bytes:
        if not self._allowed(request):
            token = self._gateway.config.metrics.token is not None
            if token:
                request.setHeader(b"www-authenticate", b'Bearer realm="metrics"')
            reason = "a bearer token or an address in [metrics] allow"
            return answer(request, 401 if token else 403, {"error": "forbidden", "message": reason})
        request.setHeader(b"cache-control", b"no-store")
        return self.render_allowed(request)

    def render_allowed(self, request: Request) -> bytes:
        raise NotImplementedError

    def _allowed(self, request: Request) -> bool:
        config = self._gateway.config.metrics
        if config.token is not None:
            given = request.getHeader(b"authorization") or b""
            if hmac.compare_digest(given, b"Bearer " + config.token.encode()):
                return True
        if self._allow[0] != config.allow:
            self._allow = (config.allow, parse_networks(config.allow))
        return within(self._gateway.guard.addresses.of_request(request), self._allow[1])


class MetricsEndpoint(Protected):
    """`GET /metrics`: Prometheus text."""

    def render_allowed(self, request: Request) -> bytes:
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
        return generate_latest(self._gateway.metrics.registry)


class StatsEndpoint(Protected):
    """`GET /stats[?topics=N]`: counters and the busiest subscriptions as JSON (stats.py)."""

    def render_allowed(self, request: Request) -> bytes:
        asked = (request.args or {}).get(b"topics", [b""])[0]
        topics = int(asked) if asked.isdigit() and len(asked) < 6 else DEFAULT_TOPICS
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(stats(self._gateway, topics)).encode()


class GatewaySite(Site):
    """The site, with requests bounded (transport/channel.py): only the ingress takes bodies,
    and none larger than its `max_body_size` is kept (a larger one announced is answered 413
    at once; one sent in chunks is read, discarded, then answered 413)."""

    protocol = GatewayChannel  # type: ignore[assignment]  # no HTTP/2: a plain HTTP/1.1 channel

    def __init__(self, root: Resource, max_body_size: int, guard: Guard, metrics: Metrics) -> None:
        # Form parsing would read bodies the ingress refuses; nothing here takes forms.
        super().__init__(root, parsePOSTFormSubmission=False)  # type: ignore[no-untyped-call]
        self.max_body_size = max_body_size
        self.guard = guard
        self.metrics = metrics
        self.noisy = False

    def log(self, request: http.Request) -> None:
        """Count each answered request (Twisted calls this as a request finishes)."""
        self.metrics.answered(request.uri, request.code)

    def getContentFile(self, length: int | None) -> BoundedBody:
        return BoundedBody(self.max_body_size, length)


def build_site(gateway: Gateway, websocket: WampWebSocketFactory) -> Site:
    root = Resource()
    root.putChild(b"ws", WebSocketResource(websocket))
    root.putChild(b"health", Health(gateway))
    root.putChild(b"ready", Ready(gateway))
    root.putChild(b"ingress", IngressGuard(build_ingress(gateway), gateway.guard))
    root.putChild(b"metrics", MetricsEndpoint(gateway))
    root.putChild(b"stats", StatsEndpoint(gateway))
    return GatewaySite(root, gateway.config.ingress.max_body_size, gateway.guard, gateway.metrics)


class IngressGuard(Resource):
    """Every ingress path, behind `max_ingress_requests_per_second` per client address: over
    it, 429 with Retry-After (logged once per interval, not once per request)."""

    def __init__(self, ingress: Resource, guard: Guard) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._ingress = ingress
        self._guard = guard

    def getChildWithDefault(self, path: bytes, request: Request) -> Resource:
        if not self._admits(request):
            return _RateLimited()
        if self._ingress.isLeaf:  # it serves every path under it: give the segment back
            assert request.prepath is not None and request.postpath is not None
            request.postpath.insert(0, request.prepath.pop())
            return self._ingress
        return self._ingress.getChildWithDefault(path, request)  # type: ignore[no-any-return]

    def render(self, request: Request) -> bytes:
        if self._admits(request):
            return self._ingress.render(request)  # type: ignore[no-any-return]
        return _RateLimited().render(request)

    def _admits(self, request: Request) -> bool:
        client = self._guard.addresses.of_request(request)
        if self._guard.ingress.allow(client):
            return True
        request.setHeader(b"retry-after", str(self._guard.ingress.retry_after(client)).encode())
        rate = self._guard.limits.max_ingress_requests_per_second
        self._guard.refuse(
            "ingress_rate",
            "HTTP 429 to {client}: over {rate} ingress requests a second",
            client=client,
            rate=rate,
        )
        return False


class _RateLimited(Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def render(self, request: Request) -> bytes:
        message = "too many ingress requests from this address; retry after Retry-After seconds"
        return answer(request, 429, {"error": "rate_limited", "message": message})


def build_ingress(gateway: Gateway) -> Resource:
    """The ingress endpoints, one nonce cache per gateway; or a 404 while no secret is set."""
    config = gateway.config
    if config.secret is None:
        return IngressDisabled()
    ingress = Ingress(
        config, config.secret, gateway.realm.broker, lambda: gateway.accepting, gateway.metrics
    )
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
