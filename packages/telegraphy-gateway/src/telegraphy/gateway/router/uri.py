"""WAMP URIs: validation per match policy, and patterns (exact, prefix, wildcard)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MATCH_POLICIES = ("exact", "prefix", "wildcard")
RESERVED = "wamp."
"""Topics and procedures under this prefix belong to the router (meta API)."""

# Loose URIs (WAMP spec, "Relaxed/Loose URIs"): components without whitespace, '.' or '#'.
_EXACT = re.compile(r"^([^\s.#]+\.)*[^\s.#]+$")
_PREFIX = re.compile(r"^([^\s.#]+\.)*[^\s.#]*$")
_WILDCARD = re.compile(r"^(([^\s.#]+\.)|\.)*[^\s.#]*$")
_VALIDATORS = {"exact": _EXACT, "prefix": _PREFIX, "wildcard": _WILDCARD}


def validate_pattern(uri: str, match: str) -> bool:
    """Whether `uri` is a well-formed URI for the given match policy (and Unicode text that
    every serializer can carry)."""
    return bool(uri) and _VALIDATORS[match].match(uri) is not None and _is_text(uri)


def _is_text(uri: str) -> bool:
    if uri.isascii():
        return True
    try:
        uri.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


@dataclass(frozen=True, slots=True)
class Pattern:
    """A URI with a match policy, as in a SUBSCRIBE or REGISTER with `match` option; for a
    subscriber's SUBSCRIBE, its own `filter` option too (JSON text, router/filters.py), which
    matching and authorization leave aside."""

    uri: str
    match: str = "exact"
    filter: str | None = None

    def matches(self, topic: str) -> bool:
        if self.match == "exact":
            return topic == self.uri
        if self.match == "prefix":
            return topic.startswith(self.uri)
        return wildcard_matches(self.uri.split("."), topic.split("."))

    def reaches_reserved(self) -> bool:
        """Whether this pattern can match a topic under `wamp.` (the router's meta events)."""
        if self.match == "prefix" and RESERVED.startswith(self.uri):
            return True
        if self.match == "wildcard":
            return self.uri.split(".")[0] in ("", "wamp")
        return self.uri.startswith(RESERVED)

    def covers(self, other: Pattern) -> bool:
        """Whether every topic `other` can match is also matched by this pattern.

        Used to authorize pattern subscriptions: a broad subscription must not reach topics
        that the session may not see. The answer errs on the side of "no".
        """
        if other.match == "exact":
            return self.matches(other.uri)
        if self.match == "prefix":
            return _literal_head(other).startswith(self.uri)
        if self.match == "wildcard" and other.match == "wildcard":
            mine, theirs = self.uri.split("."), other.uri.split(".")
            return len(mine) == len(theirs) and all(
                not m or m == t for m, t in zip(mine, theirs, strict=True)
            )
        return False


def wildcard_matches(pattern: list[str], components: list[str]) -> bool:
    if len(pattern) != len(components):
        return False
    return all(not p or p == c for p, c in zip(pattern, components, strict=True))


def _literal_head(pattern: Pattern) -> str:
    """The text every topic matched by `pattern` starts with."""
    if pattern.match == "prefix":
        return pattern.uri
    head: list[str] = []
    for component in pattern.uri.split("."):
        if not component:
            return ".".join(head) + "." if head else ""
        head.append(component)
    return pattern.uri
