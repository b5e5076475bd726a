"""The seams between the router and what must persist or be shared: per-topic streams with
history and positions, client records, the spent-token ledger and channel presence
(docs/engines.rst)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from twisted.internet.defer import Deferred

from ..errors import GatewayError
from ..router.uri import Pattern

Clock = Callable[[], float]


class EngineUnavailable(GatewayError):
    """The engine cannot keep publications now; the publisher should retry later."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a publication stands in its topic's stream: `offset` grows by one per publication
    (the first is 1; 0 is "before anything"); `epoch` changes when the history is lost."""

    offset: int
    epoch: str

    def wire(self) -> dict[str, Any]:
        return {"offset": self.offset, "epoch": self.epoch}


@dataclass(frozen=True, slots=True)
class Audience:
    """To whom a WAMP publisher narrowed its publication (PUBLISH options), by session, authid
    and authrole. `None` for an eligible list means everyone."""

    exclude: tuple[int, ...] = ()
    exclude_authid: tuple[str, ...] = ()
    exclude_authrole: tuple[str, ...] = ()
    eligible: tuple[int, ...] | None = None
    eligible_authid: tuple[str, ...] | None = None
    eligible_authrole: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Publisher:
    """The WAMP session that published, as its publication remembers it."""

    session: int
    authid: str
    authrole: str
    client_id: str | None = None
    disclose: bool = False
    exclude_me: bool = True
    audience: Audience | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """A publication before its stream gives it a position."""

    topic: str
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    publisher: Publisher | None = None  # None: the router itself (the ingress)
    event_id: str | None = None  # the envelope's meta.id, for idempotent ingress


@dataclass(frozen=True, slots=True)
class Entry:
    """A publication with its position, as the stream keeps it and the broker delivers it."""

    draft: Draft
    offset: int
    epoch: str
    publication: int
    time: float  # the gateway's clock when the publication was accepted

    @property
    def topic(self) -> str:
        return self.draft.topic

    @property
    def position(self) -> Position:
        return Position(self.offset, self.epoch)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A publication in its stream's history; `duplicate` when its event id was seen before."""

    entry: Entry
    duplicate: bool = False


GAP_TOO_OLD = "too_old"
GAP_TOO_MANY = "too_many"
GAP_EPOCH_CHANGED = "epoch_changed"
GAP_INVALID_POSITION = "invalid_position"


@dataclass(frozen=True, slots=True)
class Recovery:
    """What a client missed on one topic since a position or a time: every entry, in order,
    or (`gap`) why they cannot all be given. `position` is where the client stands after it."""

    topic: str
    position: Position
    entries: tuple[Entry, ...] = ()
    gap: str | None = None


@dataclass(frozen=True)
class HistoryPolicy:
    """How much of a topic's stream is kept: at most `size` publications, none older than
    `ttl` seconds."""

    size: int
    ttl: float


@dataclass(frozen=True)
class Since:
    """Where a recovery starts: after a position, or (no position known) at a time."""

    position: Position | None = None
    time: float | None = None


Deliver = Callable[[Entry], None]


class Streams(Protocol):
    """Per-topic streams of publications with positions and bounded history.

    `publish` resolves once the publication is in history (durable as the engine is) and
    after `deliver` has been called with it; publications reach `deliver` in offset order per
    topic, whichever process published them.
    """

    def bind(self, deliver: Deliver) -> None: ...

    def publish(self, draft: Draft) -> Deferred[Accepted]: ...

    def recover(self, topic: str, since: Since, limit: int) -> Deferred[Recovery]: ...

    def history(self, topic: str, limit: int) -> Deferred[list[Entry]]: ...

    def topics(self, pattern: Pattern) -> Deferred[list[str]]:
        """The topics matching `pattern` that have a stream."""
        ...

    def top(self, topic: str) -> Position | None:
        """The position of the last publication delivered on `topic` in this process, if it
        has a stream (and, for a shared engine, once this process knows it: see `follow`)."""
        ...

    def follow(self, topic: str) -> None:
        """This process has a subscriber on `topic`: keep `top(topic)` known from now on."""
        ...


@dataclass
class ClientRecord:
    """A browser client: its user, grants and subscriptions, kept until `expires_at`."""

    client_id: str
    user: str | None
    grants: Any  # telegraphy.core.Grants
    expires_at: int
    # In the order they were made; each (uri, match) once.
    subscriptions: list[Pattern] = field(default_factory=list)
    # Subscriptions marked persistent, with where the client stood when it left.
    persistent: dict[Pattern, dict[str, Position]] = field(default_factory=dict)
    left_at: float | None = None
    info: Any = None  # the token's presence info (docs/presence.rst)
    presence: list[str] = field(default_factory=list)  # the channel topics it is present in


class ClientStore(Protocol):
    """Where client records live."""

    def get(self, client_id: str, now: float) -> Deferred[ClientRecord | None]:
        """The record, unless it is unknown or expired at `now`."""
        ...

    def put(self, record: ClientRecord) -> None:
        """Keep `record` (written behind: a failure is logged, the record stays in use)."""
        ...

    def hold(self, client_id: str) -> None:
        """A session of this process holds `client_id` now: another process that has a session
        on it is told (see `bind_taken`)."""
        ...

    def bind_taken(self, taken: Callable[[str], None]) -> None:
        """Call `taken(client_id)` when a session of another process took `client_id` over."""
        ...


class TokenLedger(Protocol):
    """The token ids spent while their tokens could still be presented."""

    def spend(self, token_id: str, expires_at: float) -> Deferred[bool]:
        """Record `token_id` until `expires_at`; False if it was spent already (by any
        process sharing the engine)."""
        ...


@dataclass(frozen=True, slots=True)
class Member:
    """A client present in a channel: its client id, its user (None: anonymous) and the info
    its token carries."""

    client_id: str
    user: str | None = None
    info: Any = None

    def wire(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "user": self.user, "info": self.info}


JOIN = "join"
LEAVE = "leave"


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A member joined (`JOIN`) or left (`LEAVE`) the channel on `topic`, which has `count`
    members after it. `mine`: this process made the change (and sends its webhooks)."""

    kind: str
    topic: str
    member: Member
    count: int
    mine: bool = True


class Presence(Protocol):
    """Who is present in which channel, across every process sharing the engine.

    `join` and `leave` are written behind (a failure is logged); each change is told once to
    every process, through `bind`'s callback, whichever process made it. A member joined by
    this process leaves only when this process says so, or when the process stops answering
    (a shared engine then removes its members after its timeout).
    """

    def bind(self, changed: Callable[[PresenceChange], None]) -> None: ...

    def join(self, topic: str, member: Member) -> None:
        """`member` is present on `topic`, held by this process (a join event if it was not
        present before)."""
        ...

    def leave(self, topic: str, client_id: str) -> None:
        """The member leaves `topic`, unless another process holds it now."""
        ...

    def members(self, topic: str) -> Deferred[list[Member]]: ...


class Engine(Protocol):
    """Everything the router keeps outside a single connection."""

    @property
    def name(self) -> str: ...

    @property
    def streams(self) -> Streams: ...

    @property
    def clients(self) -> ClientStore: ...

    @property
    def tokens(self) -> TokenLedger: ...

    @property
    def presence(self) -> Presence: ...

    @property
    def shared(self) -> bool:
        """Whether several gateway processes can use it at once."""
        ...

    def start(self) -> None:
        """Begin periodic work (expiry) on the reactor."""
        ...

    def problem(self) -> str | None:
        """Why the engine cannot keep publications now, or None when it can."""
        ...

    def stop(self) -> Deferred[None]:
        """Finish what is written and release the engine."""
        ...
