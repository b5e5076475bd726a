"""When each request started, for its page's `since` (docs/django.rst, "The page-render gap").

Django sends `request_started` before it makes the request object, with the WSGI environ
(which becomes `request.META`) or the ASGI scope (`request.scope`): the time is kept there, in
the request itself, so no state outlives it and it holds in threads and event loops alike.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, MutableMapping
from typing import Any

# A dotted key, as PEP 3333 reserves for servers and middleware; the ASGI scope takes the same.
STARTED = "telegraphy.started"


def record_start(
    environ: MutableMapping[str, Any] | None = None,
    scope: MutableMapping[str, Any] | None = None,
    **_: Any,
) -> None:
    """The `request_started` receiver: note the time in the request's environ or scope."""
    carrier = environ if environ is not None else scope
    if carrier is not None:
        carrier[STARTED] = time.time()


def started_at(request: Any) -> float | None:
    """When `request` started (unix seconds), or None when no signal said so."""
    for carrier in (getattr(request, "META", None), getattr(request, "scope", None)):
        value = carrier.get(STARTED) if isinstance(carrier, Mapping) else None
        if isinstance(value, float):
            return value
    return None
