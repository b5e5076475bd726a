"""The ingress: signed HTTP POSTs that publish events to the realm's subscribers.

The wire contract (paths, headers, the signed string, answers and error codes) is
docs/ingress.rst. Every refusal is answered here, as JSON, and logged once.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, cast

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from telegraphy.core import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Envelope,
    EventError,
    FilterError,
    Grants,
    NonceCache,
    SignatureError,
    channel_topic,
    envelope_topic,
    mint_token,
    read_token,
    validate_envelope,
    verify_request,
)

from ..engines.base import Accepted, Draft
from ..errors import GatewayError
from ..metrics import Metrics

if TYPE_CHECKING:
    from ..config import GatewayConfig
    from ..router.broker import Broker

log = Logger()

JSON_TYPE = b"application/json"
RETRY_AFTER = b"1"
PATHS = ("/ingress/event", "/ingress/events", "/ingress/token", "/ingress/xmlrpc")
DEFAULT_TOKEN_TTL = 60.0
"""Seconds a token from POST /ingress/token lasts when the request gives no ttl (as get_token)."""


class IngressError(GatewayError):
    """A refused ingress request: its HTTP status, a code for programs and what to fix."""

    def __init__(self, status: int, code: str, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.index = index

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": str(self)}
        if self.index is not None:
            body["index"] = self.index
        return body


class BoundedBody(io.BytesIO):
    """A request body kept up to `limit` bytes; past it the rest is discarded, not stored.

    Twisted reads a whole body before a resource sees the request; this keeps an oversized
    one from taking memory (or a temporary file) while it arrives.
    """

    def __init__(self, limit: int, length: int | None) -> None:
        super().__init__()
        self.limit = limit
        self.too_large = length is not None and length > limit

    def write(self, data: Any) -> int:
        if not self.too_large and self.tell() + len(data) > self.limit:
            self.too_large = True
            self.seek(0)
            self.truncate()
        return len(data) if self.too_large else super().write(data)


class Ingress:
    """What the endpoints share: the secret, the nonce cache, the limits and the broker."""

    def __init__(
        self,
        config: GatewayConfig,
        secret: str,
        broker: Broker,
        accepting: Callable[[], bool] = lambda: True,
        metrics: Metrics | None = None,
    ) -> None:
        self.limits = config.ingress
        self._metrics = Metrics() if metrics is None else metrics
        self._accepting = accepting
        self._secret = secret
        self._prefix = config.topic_prefix
        self._channel_prefix = config.channel_prefix
        self._broker = broker
        self._nonces = NonceCache(config.ingress.timestamp_window)
        self._token_max_ttl = config.token_max_ttl

    def body(self, request: Request) -> bytes:
        """The request's body if it is within `max_body_size`."""
        content = request.content
        assert content is not None
        content.seek(0)
        body: bytes = content.read()  # nothing, from a BoundedBody past its limit
        if getattr(content, "too_large", False) or len(body) > self.limits.max_body_size:
            raise IngressError(
                413,
                "too_large",
                f"the body is larger than max_body_size ({self.limits.max_body_size} bytes); "
                "send fewer events per request",
            )
        return body

    def verify(self, request: Request, body: bytes) -> None:
        """Accept a request signed with the secret, in the window, with a fresh nonce."""
        headers = {name: _header(request, name) for name in _SIGNED_HEADERS}
        path = request.uri.decode("ascii", "replace")
        try:
            verify_request(
                self._secret,
                "POST",
                path,
                headers,
                body,
                self._nonces,
                self.limits.timestamp_window,
            )
        except SignatureError as e:
            raise IngressError(429 if e.code == "busy" else 401, e.code, str(e)) from None

    def envelopes(self, events: list[Any]) -> list[Envelope]:
        """Every event of a batch validated, before any is published (all or nothing)."""
        if not 1 <= len(events) <= self.limits.max_batch:
            status = 413 if events else 422
            raise IngressError(
                status,
                "too_large" if events else "invalid_event",
                f"a batch holds 1 to {self.limits.max_batch} events, got {len(events)}",
            )
        return [_envelope(event, index) for index, event in enumerate(events)]

    def publish(self, envelopes: list[Envelope]) -> Deferred[dict[str, Any]]:
        """Publish each event on its topic, as the router, with the envelope as the only arg;
        the answer comes once every event is in history. An event whose id was accepted
        within the dedupe window is acknowledged again, not published again."""
        if not self._accepting():
            return defer.fail(
                IngressError(
                    503, "shutting_down", "the gateway is shutting down; retry with another"
                )
            )
        metrics = self._metrics
        metrics.ingress_events += len(envelopes)
        started = time.perf_counter()
        accepted = [
            self._broker.publish_draft(
                Draft(
                    envelope_topic(envelope, self._prefix, self._channel_prefix),
                    [envelope],
                    event_id=envelope["meta"]["id"],
                )
            )
            for envelope in envelopes
        ]
        done = defer.gatherResults(accepted, consumeErrors=True)

        def written(result: Any) -> Any:
            metrics.ingress_write_seconds.observe(time.perf_counter() - started)
            return result

        return done.addCallback(written).addCallbacks(_published, _unavailable)

    def token(self, value: object) -> dict[str, Any]:
        """Mint the token a `POST /ingress/token` body asks for (docs/authentication.rst)."""
        user, grants, ttl = _token_request(value, self._token_max_ttl)
        token = mint_token(self._secret, user, grants, ttl)
        claims = read_token(self._secret, token)
        log.debug("ingress minted a token for user {user}", user=user, event="ingress.token_minted")
        return {"token": token, "expires": claims.expires_at}


def _published(accepted: list[Accepted]) -> dict[str, Any]:
    duplicates = sum(a.duplicate for a in accepted)
    log.debug(
        "ingress published {count} event(s), {duplicates} already accepted",
        count=len(accepted) - duplicates,
        duplicates=duplicates,
        event="ingress.published",
    )
    return {
        "published": len(accepted) - duplicates,
        "duplicates": duplicates,
        "ids": [a.entry.draft.event_id for a in accepted],
        "positions": [
            {"topic": a.entry.topic, "offset": a.entry.offset, "epoch": a.entry.epoch}
            for a in accepted
        ],
    }


def _unavailable(failure: Failure) -> NoReturn:
    failure.trap(defer.FirstError)
    cause = cast(defer.FirstError, failure.value).subFailure
    cause.trap(GatewayError)
    if isinstance(cause.value, IngressError):
        raise cause.value
    raise IngressError(
        503,
        "unavailable",
        f"the gateway cannot keep events now ({cause.value}); retry later",
    )


def _token_request(value: object, max_ttl: float) -> tuple[str | None, Grants, float]:
    if not isinstance(value, dict):
        raise IngressError(400, "not_an_object", "the body must be a JSON object")
    _only(value, {"user", "subscribe", "publish", "ttl"}, "the body")
    user = value.get("user")
    if user is not None and (not isinstance(user, str) or not user):
        raise _invalid_request("user must be a non-empty string (the user's id) or null")
    subscribe, publish = _table(value, "subscribe"), _table(value, "publish")
    _only(subscribe, {"events", "channels", "filters"}, "subscribe")
    _only(publish, {"channels"}, "publish")
    filters = subscribe.get("filters", {})
    if not isinstance(filters, dict):
        raise _invalid_request("subscribe.filters must be an object of event names to filters")
    try:
        grants = Grants(
            subscribe_events=_names(subscribe, "subscribe.events"),
            subscribe_channels=_names(subscribe, "subscribe.channels"),
            publish_channels=_names(publish, "publish.channels"),
            filters=filters,
        )
    except EventError as e:
        raise _invalid_request(str(e)) from None
    except FilterError as e:
        raise _invalid_request(f"subscribe.filters: {e}") from None
    ttl = value.get("ttl", DEFAULT_TOKEN_TTL)
    number = isinstance(ttl, int | float) and not isinstance(ttl, bool)
    if not number or not 1 <= ttl <= max_ttl:
        raise _invalid_request(f"ttl must be a number of seconds from 1 to {max_ttl:g}")
    return user, grants, float(ttl)


def _invalid_request(message: str) -> IngressError:
    return IngressError(422, "invalid_request", message)


def _only(value: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(value) - known)
    if unknown:
        raise _invalid_request(
            f"unknown key(s) {', '.join(unknown)} in {where}; expected: {', '.join(sorted(known))}"
        )


def _table(value: dict[str, Any], key: str) -> dict[str, Any]:
    table = value.get(key, {})
    if not isinstance(table, dict):
        raise _invalid_request(f"{key} must be an object")
    return table


def _names(table: dict[str, Any], where: str) -> tuple[str, ...]:
    names = table.get(where.split(".")[1], [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _invalid_request(f"{where} must be an array of names")
    return tuple(names)


_SIGNED_HEADERS = (TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)


def _header(request: Request, name: str) -> str:
    value = request.getHeader(name.encode())
    return "" if value is None else value.decode("latin-1")


def _envelope(event: object, index: int | None) -> Envelope:
    try:
        envelope = validate_envelope(event)
        # meta.channel (optional): publish on that channel's topic instead of the event's.
        if "channel" in envelope["meta"]:
            channel_topic(envelope["meta"]["channel"])
        return envelope
    except EventError as e:
        where = "" if index is None else f"events[{index}]: "
        raise IngressError(422, "invalid_event", f"{where}{e}", index) from None


def refuse(request: Request, error: IngressError) -> bytes:
    """Answer a refused request with its JSON error body, and log it (never its headers)."""
    log.info(
        "ingress refused {code} ({status}) from {peer}: {reason}",
        code=error.code,
        status=error.status,
        peer=peer(request),
        reason=str(error),
        event="ingress.refused",
    )
    if error.status == 405:
        request.setHeader(b"allow", b"POST")
    if error.status in (429, 503):
        request.setHeader(b"retry-after", RETRY_AFTER)
    return answer(request, error.status, error.body())


def answer_later(request: Request, result: Deferred[Any], render: Any) -> int:
    """Answer `request` when `result` fires: `render(value)` gives the body, an IngressError
    becomes its refusal. Nothing is written to a client that has gone."""
    gone: list[bool] = []
    request.notifyFinish().addErrback(lambda _: gone.append(True))

    def write(body: bytes) -> None:
        if not gone:
            request.write(body)
            request.finish()

    def refused(failure: Failure) -> None:
        if failure.check(IngressError):
            return write(refuse(request, cast(IngressError, failure.value)))
        log.failure("the ingress could not publish", failure, event="ingress.failed")
        write(refuse(request, IngressError(500, "internal_error", "the gateway failed")))

    result.addCallback(lambda value: write(render(value))).addErrback(refused)
    return NOT_DONE_YET


def answer(request: Request, status: int, payload: dict[str, Any]) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", JSON_TYPE)
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(payload).encode()


def peer(request: Request) -> str:
    address = request.getClientAddress()
    host, port = getattr(address, "host", None), getattr(address, "port", None)
    return str(address) if host is None else f"{host}:{port}"


def check_route(request: Request) -> None:
    """A leaf endpoint serves its own path only, and only to POST."""
    if request.postpath:
        raise not_found()
    if request.method != b"POST":
        raise IngressError(
            405, "method_not_allowed", "the ingress accepts POST only (see docs/ingress.rst)"
        )


def not_found() -> IngressError:
    return IngressError(404, "not_found", f"the ingress endpoints are {', '.join(PATHS)}")


class JsonEndpoint(Resource):
    """`POST /ingress/event` and `/ingress/events`: a signed JSON body in, JSON out."""

    isLeaf = True

    def __init__(self, ingress: Ingress, batch: bool) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._ingress = ingress
        self._batch = batch

    def render(self, request: Request) -> bytes | int:
        try:
            check_route(request)
            body = self._ingress.body(request)
            _check_content_type(request)
            self._ingress.verify(request, body)
            envelopes = self._envelopes(_parse(body))
        except IngressError as e:
            return refuse(request, e)
        published = self._ingress.publish(envelopes)
        return answer_later(request, published, lambda result: answer(request, 200, result))

    def _envelopes(self, value: object) -> list[Envelope]:
        if not isinstance(value, dict):
            kind = "a batch" if self._batch else "an event"
            raise IngressError(400, "not_an_object", f"the body must be a JSON object ({kind})")
        if not self._batch:
            return [_envelope(value, None)]
        events = value.get("events")
        if set(value) != {"events"} or not isinstance(events, list):
            raise IngressError(
                422, "invalid_event", 'a batch is an object {"events": [event, ...]}'
            )
        return self._ingress.envelopes(events)


def _check_content_type(request: Request) -> None:
    given = request.getHeader(b"content-type") or b""
    if given.split(b";")[0].strip().lower() != JSON_TYPE:
        raise IngressError(
            415,
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        )


def _parse(body: bytes) -> object:
    try:
        return json.loads(body, parse_constant=_not_json)
    except RecursionError:
        raise IngressError(400, "invalid_json", "the JSON is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError alike
        raise IngressError(400, "invalid_json", f"the body is not valid JSON: {e}") from None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


class TokenEndpoint(Resource):
    """`POST /ingress/token`: a signed JSON request in, a token for a browser out."""

    isLeaf = True

    def __init__(self, ingress: Ingress) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._ingress = ingress

    def render(self, request: Request) -> bytes:
        try:
            check_route(request)
            body = self._ingress.body(request)
            _check_content_type(request)
            self._ingress.verify(request, body)
            minted = self._ingress.token(_parse(body))
        except IngressError as e:
            return refuse(request, e)
        return answer(request, 200, minted)


class _JsonResource(Resource):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]


class IngressRoot(_JsonResource):
    """`/ingress` itself and any path under it that is not an endpoint: JSON 404."""

    def getChild(self, path: bytes, request: Request) -> Resource:
        return _NotFound()

    def render(self, request: Request) -> bytes:
        return refuse(request, not_found())


class _NotFound(_JsonResource):
    isLeaf = True

    def render(self, request: Request) -> bytes:
        return refuse(request, not_found())


class IngressDisabled(_JsonResource):
    """Every ingress path while no secret is configured: 404 saying how to turn it on."""

    isLeaf = True

    def render(self, request: Request) -> bytes:
        return refuse(
            request,
            IngressError(
                404,
                "ingress_disabled",
                "the ingress is off: set `secret` in the gateway's configuration (or the "
                "TELEGRAPHY_SECRET environment variable) to the web app's shared secret",
            ),
        )
