"""How the publisher's worker hands batches of events to the gateway.

A transport is anything with `check(envelope)` and `deliver(batch)` (the `Transport`
protocol). `TRANSPORTS` maps the `transport` setting to a factory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .._envelope import Envelope
from .._settings import Settings
from ._http import HttpTransport
from ._redis import RedisTransport
from ._xmlrpc import XmlRpcTransport


class Transport(Protocol):
    """Delivers batches of events; called only from the publisher's worker thread."""

    def check(self, envelope: Envelope) -> None:
        """Raise `EventError` if this transport can never carry `envelope`.

        Called by `send()` in the caller's thread, so it must be cheap.
        """

    def deliver(self, batch: Sequence[Envelope]) -> None:
        """Deliver `batch` in order, all of it, or raise.

        Raises `TransportError` when sending again later may succeed (the events are kept),
        `RejectedError` when the gateway refuses the events for good.
        """

    def close(self) -> None:
        """Release the connection; `deliver` may still be called and reconnects."""


TRANSPORTS: dict[str, Callable[[Settings], Transport]] = {
    "http": HttpTransport,
    "xmlrpc": XmlRpcTransport,
    "redis": RedisTransport,
}


def make_transport(settings: Settings) -> Transport:
    """The transport the `transport` setting names."""
    return TRANSPORTS[settings.transport](settings)


__all__ = [
    "TRANSPORTS",
    "HttpTransport",
    "RedisTransport",
    "Transport",
    "XmlRpcTransport",
    "make_transport",
]
