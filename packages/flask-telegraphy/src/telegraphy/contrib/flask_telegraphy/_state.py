"""Per-app state (`app.extensions["telegraphy"]`): settings, where events go, who the user is."""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context

from telegraphy.core import Envelope, Publisher, Sender
from telegraphy.core import EventRecorder as EventRecorder

from ._config import FlaskSettings

logger = logging.getLogger(__name__)

EXTENSION = "telegraphy"


class TelegraphyState:
    """What one app's extension holds. The publisher is made with the first event sent."""

    def __init__(
        self,
        settings: FlaskSettings,
        get_user: Callable[[], Any],
        sender: Sender | None = None,
    ) -> None:
        self.settings = settings
        self.get_user = get_user
        self._sender = sender
        self._override: Sender | None = None
        self._lock = threading.Lock()
        _live.add(self)

    def sender(self) -> Sender:
        """Where this app's events go: its own publisher, unless a sender was given."""
        if self._override is not None:
            return self._override
        with self._lock:
            if self._sender is None:
                self._sender = Publisher(self.settings.core)
            return self._sender

    @property
    def capturing(self) -> bool:
        """Whether `capture_events()` is recording this app's events."""
        return self._override is not None

    def send(self, envelope: Envelope) -> None:
        """Hand `envelope` on; what goes wrong is logged, never raised into a commit."""
        try:
            self.sender().send(envelope)
        except Exception:
            logger.exception(
                "telegraphy: event %r id %r could not be queued for the gateway",
                envelope.get("name"),
                envelope.get("meta", {}).get("id"),
            )

    def close(self) -> None:
        """Deliver what is queued (up to the publisher's close timeout) and stop."""
        with self._lock:
            sender, self._sender = self._sender, None
        if isinstance(sender, Publisher):
            sender.close()


# Every initialised app's state: model events flushed outside an app context go to the only
# one there is.
_live: weakref.WeakSet[TelegraphyState] = weakref.WeakSet()
_warned = False


@atexit.register
def _close_all() -> None:
    for state in list(_live):
        state.close()


def get_state(app: Flask | None = None) -> TelegraphyState:
    """The state of `app` (default: the current app); a clear error if not initialised."""
    if app is None:
        if not has_app_context():
            raise RuntimeError(
                "telegraphy: no Flask app context; call this inside a request or "
                "`with app.app_context():`"
            )
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions.get(EXTENSION)
    if not isinstance(state, TelegraphyState):
        raise RuntimeError(
            f"telegraphy is not initialised on app {app.name!r}: call Telegraphy(app) or "
            "telegraphy.init_app(app)"
        )
    return state


def current_state() -> TelegraphyState | None:
    """The state events flushed now belong to, or None (nothing to send to)."""
    global _warned
    if has_app_context():
        state = current_app.extensions.get(EXTENSION)
        return state if isinstance(state, TelegraphyState) else None
    states = list(_live)
    if len(states) == 1:
        return states[0]
    if states and not _warned:
        _warned = True
        logger.warning(
            "telegraphy: a session flushed outside any Flask app context while several apps "
            "use Telegraphy: its model events are not sent (commit inside app.app_context())"
        )
    return None


@contextmanager
def capture_events(app: Flask | None = None) -> Iterator[EventRecorder]:
    """Send the app's events to a list instead of the gateway (for tests)."""
    state = get_state(app)
    previous, recorder = state._override, EventRecorder()
    state._override = recorder
    try:
        yield recorder
    finally:
        state._override = previous
