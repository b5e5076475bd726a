"""Event names and the WAMP topics they are published on (DESIGN.md: Names)."""

from __future__ import annotations

import re

from ._errors import EventError

DEFAULT_REALM = "telegraphy"
DEFAULT_TOPIC_PREFIX = "telegraphy.event"

# WAMP loose URI components: no whitespace, '.' or '#', none empty.
_NAME = re.compile(r"^([^\s.#]+\.)*[^\s.#]+$")
MAX_NAME_LENGTH = 200


def validate_event_name(name: object) -> str:
    """Return `name` if it can name an event (`app.Model`, `chat.room-1`); else raise."""
    if not isinstance(name, str):
        raise EventError(f"an event name must be a string, got {type(name).__name__}")
    if len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        raise EventError(
            f"invalid event name {name!r}: use dot-separated words without spaces or '#', "
            f"at most {MAX_NAME_LENGTH} characters (for example 'shop.Order')"
        )
    return name


def event_topic(name: str, prefix: str = DEFAULT_TOPIC_PREFIX) -> str:
    """The WAMP topic an event is published on: `<prefix>.<name>`."""
    return f"{prefix}.{validate_event_name(name)}"
