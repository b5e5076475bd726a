"""Per-client protection: who the client is behind trusted proxies, how many connections it
holds, how fast it may open handshakes and send requests, and refusals logged without
flooding the log (docs/gateway.rst, "Limits")."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger, LogLevel

if TYPE_CHECKING:
    from twisted.web.server import Request

    from ..config import GatewayConfig

log = Logger()

LOG_INTERVAL = 10.0
"""Seconds between two log lines about the same kind of refusal; the ones between are counted."""

MAX_WARNED_PEERS = 100
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks ("10.0.0.0/8"); ValueError names the first bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def within(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # Listening on "::", IPv4 peers arrive as ::ffff:a.b.c.d.
    mapped = getattr(address, "ipv4_mapped", None)
    candidates = (address,) if mapped is None else (address, mapped)
    return any(a in network for a in candidates for network in networks)


class ClientAddresses:
    """The client's address: the TCP peer's, or behind a trusted proxy the nearest address in
    X-Forwarded-For that is not a trusted proxy (what the client itself wrote there is
    further left, and never believed)."""

    def __init__(self, trusted_proxies: tuple[Network, ...]) -> None:
        self._trusted = trusted_proxies
        self._warned: set[str] = set()

    def is_proxy(self, host: str) -> bool:
        return bool(self._trusted) and within(host, self._trusted)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """`forwarded_for`: the X-Forwarded-For header's values, joined by commas."""
        if not forwarded_for:
            return peer
        if not self.is_proxy(peer):
            self._warn_untrusted(peer)
            return peer
        for hop in reversed([hop.strip() for hop in forwarded_for.split(",")]):
            if not _is_address(hop):
                return peer  # the chain cannot be followed past what is not an address
            if not within(hop, self._trusted):
                return hop
        return peer

    def _warn_untrusted(self, peer: str) -> None:
        # Once per peer (and for a bounded number of them): a proxy left out of
        # trusted_proxies makes all its clients one address for the per-address limits.
        if peer in self._warned or len(self._warned) >= MAX_WARNED_PEERS:
            return
        self._warned.add(peer)
        log.warn(
            "X-Forwarded-For from {peer} is ignored: {peer} is not in trusted_proxies. If it is "
            "your reverse proxy, add it, or every client behind it counts as one address",
            peer=peer,
            event="proxy.untrusted",
        )

    def of_request(self, request: Request) -> str:
        """The client address of an HTTP request."""
        values = request.requestHeaders.getRawHeaders(b"x-forwarded-for")
        forwarded = None if values is None else b",".join(values).decode("latin-1")
        return self.client(request.getClientAddress().host, forwarded)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; each request takes one."""

    __slots__ = ("at", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.tokens = burst
        self.at = now

    def take(self, now: float, rate: float, burst: float) -> bool:
        self.tokens = min(burst, self.tokens + (now - self.at) * rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait(self, rate: float) -> int:
        """Whole seconds until the next token (for Retry-After)."""
        return max(1, math.ceil((1 - self.tokens) / rate))


class RateLimiter:
    """A token bucket per key (a client address). A bucket that has filled up again is
    forgotten, so idle clients take no memory."""

    def __init__(self, rate: float, clock: IReactorTime) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        """Allow `rate` requests a second from now on (buckets keep what they hold)."""
        self.rate = rate
        self.burst = max(1.0, rate)  # one second's worth
        self._next_sweep = self._clock.seconds() + self.burst / rate

    def allow(self, key: str) -> bool:
        now = self._clock.seconds()
        if now >= self._next_sweep:
            self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.burst, now)
        return bucket.take(now, self.rate, self.burst)

    def retry_after(self, key: str) -> int:
        bucket = self._buckets.get(key)
        return 1 if bucket is None else bucket.wait(self.rate)

    def _sweep(self, now: float) -> None:
        refill = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < refill}
        self._next_sweep = now + refill


class ConnectionCounter:
    """Open connections per client address; a connection is counted once, by its holder (the
    TCP transport), and released by whichever protocol sees it close."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_address: dict[str, int] = {}
        self._holders: dict[object, str] = {}

    def admit(self, holder: object, address: str) -> bool:
        if holder in self._holders:
            return True
        count = self._by_address.get(address, 0)
        if count >= self.limit:
            return False
        self._by_address[address] = count + 1
        self._holders[holder] = address
        return True

    def release(self, holder: object) -> None:
        address = self._holders.pop(holder, None)
        if address is None:
            return
        count = self._by_address[address] - 1
        if count:
            self._by_address[address] = count
        else:
            del self._by_address[address]

    def count(self, address: str) -> int:
        return self._by_address.get(address, 0)


class RefusalLog:
    """One log line per kind of refusal per LOG_INTERVAL, saying how many were refused since
    the last line: a flood of refused clients cannot flood the log."""

    def __init__(self, clock: IReactorTime, interval: float = LOG_INTERVAL) -> None:
        self._clock = clock
        self._interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, reason: str, template: str, **fields: Any) -> None:
        now = self._clock.seconds()
        if now - self._last.get(reason, -math.inf) < self._interval:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return
        self._last[reason] = now
        suppressed = self._suppressed.pop(reason, 0)
        log.warn(
            "refused ({reason}): " + template + "{also}",
            reason=reason,
            refused_since_last=suppressed,
            also=f" (and {suppressed} more since the last such line)" if suppressed else "",
            **fields,
            event="limit.refused",
        )


class Guard:
    """The limits every transport applies, shared by the HTTP site and the WebSocket factory."""

    def __init__(
        self,
        config: GatewayConfig,
        clock: IReactorTime,
        refused: Callable[[str], None] = lambda reason: None,
    ) -> None:
        limits = config.limits
        self.connections = ConnectionCounter(limits.max_connections_per_ip)
        self.handshakes = RateLimiter(limits.max_handshakes_per_second, clock)
        self.ingress = RateLimiter(limits.max_ingress_requests_per_second, clock)
        self.clock = clock
        # Behind a PROXY protocol load balancer a connection's client is known only once its
        # header is read (proxy_protocol needs a restart to change).
        self.proxy_protocol = config.proxy_protocol
        self._log = RefusalLog(clock)
        self._count = refused
        self.reconfigure(config)

    def reconfigure(self, config: GatewayConfig) -> None:
        """Apply the limits and trusted proxies of `config` (at start, and on SIGHUP):
        connections already open stay counted, but no new one past a lowered limit."""
        limits = config.limits
        self.limits = limits
        self.addresses = ClientAddresses(parse_networks(config.trusted_proxies))
        self.connections.limit = limits.max_connections_per_ip
        self.handshakes.set_rate(limits.max_handshakes_per_second)
        self.ingress.set_rate(limits.max_ingress_requests_per_second)

    def refuse(self, reason: str, template: str, **fields: Any) -> None:
        """Count a refusal (metrics) and log it (a twisted.logger format), rate-limited."""
        self._count(reason)
        self._log(reason, template, **fields)


ACCEPT_ERRORS = (
    "EMFILE encountered",
    "EMFILE recovery",
    "Re-reserving EMFILE",
    "Could not accept new connection",
)
"""How Twisted's listening port logs the connections it cannot accept: about three lines for
each one when the process is out of file descriptors."""


class AcceptErrorLog:
    """A log observer in front of `observer` that lets one line about refused connections
    through per interval, with how many were refused since the last one."""

    def __init__(
        self,
        observer: Callable[[dict[str, Any]], None],
        clock: Callable[[], float],
        interval: float = LOG_INTERVAL,
    ) -> None:
        self._observer = observer
        self._clock = clock
        self._interval = interval
        self._next = -math.inf
        self._refused = 0

    def __call__(self, event: dict[str, Any]) -> None:
        text = str(event.get("log_format", ""))
        if not text.startswith(ACCEPT_ERRORS):
            self._observer(event)
            return
        if not text.startswith(("EMFILE encountered", "Re-reserving")):
            self._refused += 1  # one line per connection closed or not accepted
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self._interval
        refused, self._refused = self._refused, 0
        self._observer(
            {
                **event,
                "log_namespace": __name__,
                "log_level": LogLevel.warn,
                "event": "limit.refused",
                "reason": "accept_error",
                "log_format": "refused (accept_error): cannot accept connections ({error}: out "
                "of file descriptors or memory; raise the open files limit, ulimit -n){also}",
                "error": event.get("acceptError", "EMFILE"),
                "refused_since_last": refused,
                "also": f" ({refused} refused since the last such line)" if refused else "",
            }
        )
