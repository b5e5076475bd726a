"""The XML-RPC transport, kept for the original Telegraphy API's clients: `send_events(array)`
at /ingress/xmlrpc, signed like the JSON requests, over the exact XML body."""

from __future__ import annotations

import http.client
import xmlrpc.client
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

from .._envelope import Envelope
from .._errors import EventError, RejectedError, TransportError
from .._settings import Settings
from .._signing import sign_request
from ._http import REJECTED_STATUSES, error_for_status

PASSING_STATUSES = frozenset({429, 503})
"""Faults that pass: the gateway is busy or stopping, and a retry will get through."""

XMLRPC_PATH = "/ingress/xmlrpc"
# XML-RPC's <int> is 32 bits; xmlrpc.client refuses larger ones.
INT_RANGE = range(-(2**31), 2**31)

if TYPE_CHECKING:
    from _typeshed import SizedBuffer


class _SignedTransport(xmlrpc.client.Transport):
    """Adds the signature headers, computed over the XML body about to be sent, and a timeout."""

    def __init__(self, secret: str, timeout: float, https: bool, path: str) -> None:
        super().__init__()
        self._secret = secret
        self._path = path
        self._timeout = timeout
        self._https = https

    def make_connection(self, host: str | tuple[str, dict[str, str]]) -> http.client.HTTPConnection:
        if self._connection[1] is not None and self._connection[0] == host:
            return self._connection[1]
        netloc, self._extra_headers, _ = self.get_host_info(host)
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        self._connection = host, cls(netloc, timeout=self._timeout)
        return self._connection[1]

    def send_content(
        self, connection: http.client.HTTPConnection, request_body: SizedBuffer
    ) -> None:
        for name, value in sign_request(
            self._secret, "POST", self._path, bytes(request_body)
        ).items():
            connection.putheader(name, value)
        super().send_content(connection, request_body)


class XmlRpcTransport:
    """Calls `send_events` with the batch; xmlrpc.client keeps the connection alive."""

    def __init__(self, settings: Settings) -> None:
        https = settings.gateway_url.startswith("https:")
        # Signed as requested: with the path prefix a gateway_url behind a proxy carries.
        path = urlsplit(settings.gateway_url).path.rstrip("/") + XMLRPC_PATH
        self._transport = _SignedTransport(settings.secret, settings.timeout, https, path)
        url = settings.gateway_url.rstrip("/") + XMLRPC_PATH
        self._proxy = xmlrpc.client.ServerProxy(url, transport=self._transport, allow_none=True)

    def check(self, envelope: Envelope) -> None:
        """Refuse integers XML-RPC cannot carry, now rather than in the worker."""
        stack: list[object] = [envelope]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, int) and not isinstance(item, bool) and item not in INT_RANGE:
                raise EventError(
                    f"{item} does not fit XML-RPC's 32-bit integers; send it as a string, "
                    "or use the http transport"
                )

    def deliver(self, batch: Sequence[Envelope]) -> None:
        try:
            self._proxy.send_events(list(batch))
        except xmlrpc.client.Fault as e:
            raise _fault_error(e) from e
        except xmlrpc.client.ProtocolError as e:
            self.close()
            raise error_for_status(e.errcode, "", e.errmsg) from e
        except (TypeError, OverflowError) as e:
            raise RejectedError(f"an event cannot be encoded as XML-RPC: {e}") from e
        except (OSError, http.client.HTTPException, xmlrpc.client.Error, ExpatError) as e:
            self.close()
            raise TransportError(f"cannot reach the gateway: {e!r}") from e

    def close(self) -> None:
        self._transport.close()


def _fault_error(fault: xmlrpc.client.Fault) -> Exception:
    message = f"gateway answered fault {fault.faultCode}: {fault.faultString}"
    if fault.faultCode in REJECTED_STATUSES:
        return RejectedError(message)
    if fault.faultCode in PASSING_STATUSES:  # busy, stopping, or cannot keep events now
        return TransportError(message)
    # Any other fault (an unknown method, a failure inside the gateway) needs a person.
    return TransportError(message, misconfigured=True)
