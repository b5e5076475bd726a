"""Which web pages may open a WebSocket to the gateway: the `Origin` check of the upgrade.

Browsers send the page's origin with every WebSocket upgrade; other programs usually send
none. The check keeps pages of other sites from using a visitor's browser to talk to the
gateway. It is not authentication: any non-browser program can send any Origin it likes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY = "*"
LOOPBACK_ORIGINS = tuple(
    f"{scheme}://{host}:*"
    for host in ("localhost", "127.0.0.1", "[::1]")
    for scheme in ("http", "https")
)
"""The default: pages served from this machine, on any port."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
# scheme://host[:port], the host a DNS name, an IPv4 address or a bracketed IPv6 address.
_ORIGIN = re.compile(
    r"^(?P<scheme>https?)://(?P<host>\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)"
    r"(:(?P<port>[0-9]{1,5}|\*))?$"
)


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int | None  # None: any port (an allowed origin written with ":*")

    def __str__(self) -> str:
        port = ANY if self.port is None else str(self.port)
        return f"{self.scheme}://{self.host}:{port}"


def parse_origin(text: str) -> Origin | None:
    """An origin as browsers send it (`https://shop.example.com`), or None if it is not one
    (such as `null`, which sandboxed pages and `file:` URLs send)."""
    found = _ORIGIN.match(text.strip().lower())
    if found is None:
        return None
    scheme, port = found["scheme"], found["port"]
    if port == ANY:
        return Origin(scheme, found["host"], None)
    number = _DEFAULT_PORTS[scheme] if port is None else int(port)
    return Origin(scheme, found["host"], number) if 0 < number < 65536 else None


def parse_allowed_origin(entry: object) -> str:
    """An entry of `allowed_origins`, normalised; ValueError says what is wrong with it."""
    if entry == ANY:
        return ANY
    origin = parse_origin(entry) if isinstance(entry, str) else None
    if origin is None:
        raise ValueError(
            f"{entry!r} is not an origin: write scheme://host[:port] with scheme http or https "
            "and no path (such as 'https://shop.example.com' or 'http://localhost:*' for any "
            "port), or '*' to allow every origin"
        )
    return str(origin)


class OriginPolicy:
    """Decides whether an upgrade request's `Origin` header is allowed."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self._any = ANY in allowed
        self._allowed = {parse_origin(entry) for entry in allowed if entry != ANY}

    def allows(self, header: str | None) -> bool:
        # No Origin header: not a browser, so not a page of another site acting for a visitor.
        if header is None or self._any:
            return True
        origin = parse_origin(header)
        if origin is None or origin.port is None:  # "host:*" is for the configuration only
            return False
        return origin in self._allowed or Origin(origin.scheme, origin.host, None) in self._allowed
