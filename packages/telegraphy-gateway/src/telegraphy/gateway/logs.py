"""Stable event names on log lines: each line the gateway writes carries an `event` key
(docs/operations.rst lists them), so JSON logs are filtered and alerted on by name, not text.
The gateway's own lines name theirs; this names the lines of Twisted and autobahn."""

from __future__ import annotations

from typing import Any

from twisted.logger import ILogObserver
from zope.interface import implementer

FOREIGN: tuple[tuple[str, str], ...] = (
    ("Received SIG", "gateway.signal"),
    ("Main loop terminated", "reactor.stopped"),
    ("Starting factory", "factory.started"),
    ("Stopping factory", "factory.stopped"),
)
"""Lines of Twisted known by how their text begins, with their event names."""

LISTENING = (" starting on ", "listener.started")
CLOSED = (" Closed)", "listener.closed")
UNHANDLED = "error.unhandled"
"""A failure logged by a library (an unhandled error in a Deferred, say): always a bug."""


def event_name(event: dict[str, Any]) -> str:
    """The name of a line that did not give one itself."""
    if "log_failure" in event:
        return UNHANDLED
    text = str(event.get("log_text", event.get("log_format", "")))
    for start, name in FOREIGN:
        if text.startswith(start):
            return name
    if LISTENING[0] in text:
        return LISTENING[1]
    if text.endswith(CLOSED[0]):
        return CLOSED[1]
    namespace = str(event.get("log_namespace", ""))
    root = "twisted" if namespace == "log_legacy" else namespace.split(".", 1)[0]
    return f"{root or 'unknown'}.log"


@implementer(ILogObserver)
class EventNames:
    """Hands each line on to `observer` with an `event` key."""

    def __init__(self, observer: ILogObserver) -> None:
        self._observer = observer

    def __call__(self, event: dict[str, Any]) -> None:
        if "event" not in event:
            event = {**event, "event": event_name(event)}
        self._observer(event)
