"""The default transport: signed JSON POSTs of batches to the gateway's /ingress/events."""

from __future__ import annotations

import http.client
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from .._envelope import Envelope
from .._errors import RejectedError, TransportError
from .._settings import Settings
from .._signing import sign_request

EVENTS_PATH = "/ingress/events"
# Refusals the operator must fix; retrying alone will not help, so they are logged loudly.
# 401 is one of them (a wrong secret, a clock far off) unless the nonce was merely reused.
MISCONFIGURED_STATUSES = frozenset({401, 404, 405, 415})
PASSING_CODES = frozenset({"replayed_nonce", "busy"})
# Refusals of the events themselves: the publisher isolates and drops the event at fault.
REJECTED_STATUSES = frozenset({400, 413, 422})


def error_for_status(status: int, code: str, message: str, index: int | None = None) -> Exception:
    """What a refused request means for the events in it, as an error the publisher knows."""
    detail = f"gateway answered {status} {code}: {message}".rstrip(": ")
    if status in REJECTED_STATUSES:
        return RejectedError(detail, index=index)
    misconfigured = status in MISCONFIGURED_STATUSES and code not in PASSING_CODES
    return TransportError(detail, misconfigured=misconfigured)


def connection_for(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """An unopened connection to the gateway at `url`, and the path prefix the URL carries."""
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.netloc, timeout=timeout), parts.path.rstrip("/")


class HttpTransport:
    """One persistent keep-alive connection, reopened after any failure."""

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.secret
        self._connection, prefix = connection_for(settings.gateway_url, settings.timeout)
        self._path = prefix + EVENTS_PATH
        self._fresh = True

    def check(self, envelope: Envelope) -> None:
        """Anything JSON carries goes; the envelope is JSON-safe already."""

    def deliver(self, batch: Sequence[Envelope]) -> None:
        body = _encode(batch)
        try:
            status, answer = self._post(body)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise TransportError(f"cannot reach the gateway: {e!r}") from e
        if status != 200:
            raise error_for_status(status, *_refusal(answer))

    def close(self) -> None:
        self._connection.close()
        self._fresh = True

    def _post(self, body: bytes) -> tuple[int, bytes]:
        reused = not self._fresh
        self._fresh = False
        try:
            return self._request(body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
        # The gateway closed a connection that sat idle: one fresh attempt straight away.
        self._connection.close()
        return self._request(body)

    def _request(self, body: bytes) -> tuple[int, bytes]:
        headers = {
            "Content-Type": "application/json",
            **sign_request(self._secret, "POST", self._path, body),
        }
        self._connection.request("POST", self._path, body=body, headers=headers)
        response = self._connection.getresponse()
        answer = response.read()
        if response.will_close:
            self.close()
        return response.status, answer


def _encode(batch: Sequence[Envelope]) -> bytes:
    try:
        text = json.dumps({"events": list(batch)}, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise RejectedError(f"an event cannot be encoded as JSON: {e}") from e
    return text.encode()


def _refusal(answer: bytes) -> tuple[str, str, int | None]:
    """(code, message, index) from the gateway's JSON error body, as far as it has them."""
    try:
        parsed: Any = json.loads(answer)
    except ValueError:
        return "", answer[:200].decode(errors="replace"), None
    if not isinstance(parsed, dict):
        return "", "", None
    index = parsed.get("index")
    return (
        str(parsed.get("error", "")),
        str(parsed.get("message", "")),
        index if isinstance(index, int) and not isinstance(index, bool) else None,
    )
