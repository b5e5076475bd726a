"""`POST /ingress/xmlrpc`: the original Telegraphy API's XML-RPC `send_event(struct)`, and
`send_events(array)`.

Signed like the JSON endpoints, over the raw XML body, and checked before the XML is parsed.
Refused requests are HTTP errors with JSON bodies; refused events are XML-RPC faults whose
code is the HTTP status the JSON endpoints would answer (docs/ingress.rst).

The standard library marshals XML-RPC here: twisted.web.xmlrpc imports Twisted's deprecated
HTTP client, and the two methods need none of its dispatch.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any, cast
from xmlrpc.client import Binary, DateTime, Fault

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import Request

from .ingress import Ingress, IngressError, answer_later, check_route, log, peer, refuse

XML_TYPE = b"text/xml; charset=utf-8"


class XmlRpcEndpoint(Resource):
    """XML-RPC with structs, arrays, strings, ints, doubles, booleans and nil; dateTime and
    base64 are refused, because the envelope carries only what JSON carries."""

    isLeaf = True

    def __init__(self, ingress: Ingress) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._ingress = ingress

    def render(self, request: Request) -> bytes | int:
        try:
            check_route(request)
            body = self._ingress.body(request)
            self._ingress.verify(request, body)
        except IngressError as e:
            return refuse(request, e)
        try:
            result = self._call(body)
        except IngressError as e:
            result = defer.fail(e)

        def fault(failure: Failure) -> Fault:
            failure.trap(IngressError)
            error = cast(IngressError, failure.value)
            self._log_fault(request, error)
            return Fault(error.status, str(error))

        response = result.addCallback(lambda value: (value,)).addErrback(fault)
        return answer_later(request, response, lambda r: self._respond(request, r))

    @staticmethod
    def _respond(request: Request, response: tuple[Any, ...] | Fault) -> bytes:
        request.setHeader(b"content-type", XML_TYPE)
        return xmlrpc.client.dumps(response, methodresponse=True, allow_none=True).encode()

    def _call(self, body: bytes) -> Deferred[dict[str, Any]]:
        params, method = _parse(body)
        if method == "send_event":
            if len(params) != 1:
                raise IngressError(400, "bad_call", "send_event takes one argument: the event")
            return self._publish([params[0]])
        if method == "send_events":
            if len(params) != 1 or not isinstance(params[0], list):
                raise IngressError(400, "bad_call", "send_events takes one argument: an array")
            return self._publish(params[0])
        raise IngressError(404, "no_such_method", f"no method {method!r}: use send_event(s)")

    def _publish(self, events: list[Any]) -> Deferred[dict[str, Any]]:
        _refuse_xmlrpc_only_types(events)
        return self._ingress.publish(self._ingress.envelopes(events))

    def _log_fault(self, request: Request, error: IngressError) -> None:
        log.info(
            "ingress refused fault {status} from {peer}: {reason}",
            status=error.status,
            peer=peer(request),
            reason=str(error),
            event="ingress.refused",
        )


def _parse(body: bytes) -> tuple[tuple[Any, ...], str]:
    try:
        params, method = xmlrpc.client.loads(body, use_datetime=False, use_builtin_types=False)
    except Exception as e:  # expat, int() and the unmarshaller each raise their own errors
        raise IngressError(400, "bad_call", f"the body is not an XML-RPC call: {e}") from None
    if not method:
        raise IngressError(400, "bad_call", "the body is an XML-RPC response, not a call")
    return params, method


def _refuse_xmlrpc_only_types(events: list[Any]) -> None:
    """dateTime and base64 values have no JSON form; say how to send them instead."""
    stack: list[tuple[object, str]] = [(e, f"events[{i}]") for i, e in enumerate(events)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((child, f"{path}.{key}") for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
        elif isinstance(item, DateTime | Binary):
            kind = "dateTime" if isinstance(item, DateTime) else "base64"
            raise IngressError(
                422,
                "invalid_event",
                f"{path} is an XML-RPC {kind}; send dates as ISO 8601 strings and bytes as "
                "(for example base64-encoded) strings",
            )
