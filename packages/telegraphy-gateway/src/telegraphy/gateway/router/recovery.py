"""Recovery: what a subscriber missed, replayed from history in order and before any live
event, through the subscription's filter, then a report per topic: how many were recovered,
or why they cannot be (a gap).

While the history is read, the subscriber's live frames on that subscription are held; after
the replay they are written, less those the replay already carried (docs/protocol.rst).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twisted.internet import defer, reactor
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..engines.base import Entry, Position, Since, Streams
from ..engines.base import Recovery as Found
from ..errors import InvalidArgument
from .delivery import EVENT, event_message, may_receive
from .ids import publication_id
from .uri import Pattern

if TYPE_CHECKING:
    from ..session import Session
    from .broker import Broker
    from .subscription import Subscription

log = Logger()

MAX_POSITIONS = 1000
"""Topics one recovery request may name."""
_FRAME_CACHE_SIZE = 20_000
LATE_WINDOW = 5.0
"""Seconds after a replay during which late live frames of replayed publications are dropped."""
GAP_UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Request:
    """Where a subscriber stands: a position per topic, and (for topics it has no position
    for) the time from which it missed everything."""

    positions: dict[str, Position] = field(default_factory=dict)
    since: float | None = None

    def narrowed(self, pattern: Pattern) -> Request:
        """The part of this request that `pattern` matches."""
        positions = {t: p for t, p in self.positions.items() if pattern.matches(t)}
        return Request(positions, self.since)

    def __bool__(self) -> bool:
        return bool(self.positions) or self.since is not None


def parse_request(value: Any, pattern: Pattern | None) -> Request | None:
    """The `recover` option ({positions: {topic: {offset, epoch}}, since: seconds}), checked;
    `InvalidArgument` says what is wrong with it."""
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= {"positions", "since"}:
        raise InvalidArgument("recover must be an object {positions, since}")
    positions = value.get("positions", {})
    if not isinstance(positions, dict) or len(positions) > MAX_POSITIONS:
        raise InvalidArgument(
            f"recover.positions must be an object of at most {MAX_POSITIONS} topics"
        )
    parsed = {topic: _position(topic, p, pattern) for topic, p in positions.items()}
    since = value.get("since")
    number = isinstance(since, int | float) and not isinstance(since, bool)
    if since is not None and (not number or not 0 <= since < math.inf):
        raise InvalidArgument("recover.since must be a time in seconds since 1970")
    return Request(parsed, None if since is None else float(since))


def _position(topic: Any, value: Any, pattern: Pattern | None) -> Position:
    if not isinstance(topic, str) or (pattern is not None and not pattern.matches(topic)):
        raise InvalidArgument(f"recover.positions names {topic!r}, which is not subscribed")
    offset = value.get("offset") if isinstance(value, dict) else None
    epoch = value.get("epoch") if isinstance(value, dict) else None
    if type(offset) is int and offset >= 0 and isinstance(epoch, str):
        return Position(offset, epoch)
    raise InvalidArgument(f"recover.positions[{topic!r}] must be {{offset: integer, epoch}}")


class Recovery:
    def __init__(
        self, broker: Broker, streams: Streams, limit: int, clock: IReactorTime = reactor
    ) -> None:
        self._broker = broker
        self._reactor = clock
        self._streams = streams
        self._limit = limit
        # (subscription, publication, codec) -> frame: a storm of clients recovering the same
        # events through one subscription serializes each event once per codec.
        self._frames: dict[tuple[int, int, str], bytes] = {}

    def start(self, session: Session, subscription: Subscription, request: Request) -> None:
        held: list[tuple[Entry | None, bytes]] = []
        subscription.hold(session, lambda frame: held.append((self._broker.delivering, frame)))
        topics = self._topics(subscription.pattern, request)
        found = topics.addCallback(self._read, request)
        found.addCallback(self._replay, session, subscription, held, request)
        found.addErrback(self._failed, session, subscription, held)

    def _topics(self, pattern: Pattern, request: Request) -> defer.Deferred[list[str]]:
        if pattern.match == "exact":
            return defer.succeed([pattern.uri])
        if request.since is None:
            return defer.succeed(sorted(request.positions))
        found = self._streams.topics(pattern)
        found.addCallback(lambda topics: sorted({*topics, *request.positions}))
        return found

    def _read(self, topics: list[str], request: Request) -> defer.Deferred[list[Found]]:
        reads = [
            self._streams.recover(topic, self._since(topic, request), self._limit)
            for topic in topics
        ]
        return defer.gatherResults(reads, consumeErrors=True)

    @staticmethod
    def _since(topic: str, request: Request) -> Since:
        position = request.positions.get(topic)
        return Since(position) if position is not None else Since(time=request.since)

    def _replay(
        self,
        found: list[Found],
        session: Session,
        subscription: Subscription,
        held: list[tuple[Entry | None, bytes]],
        request: Request,
    ) -> None:
        if not subscription.has(session):
            return  # gone while the history was read
        report = []
        for recovery in found:
            sent = sum(
                self._send(session, subscription, entry)
                for entry in recovery.entries
                if may_receive(session, entry) and subscription.admits(entry)
            )
            if (
                recovery.entries
                or recovery.gap
                or recovery.topic in request.positions
                or subscription.pattern.match == "exact"
            ):
                report.append(_report(recovery, sent))
        session.send_raw([EVENT, subscription.id, publication_id(), {"recovery": report}])
        self._broker.tally.recovery(
            sum(r["recovered"] for r in report), [r["gap"] for r in report if r["gap"]]
        )
        tops = {r.topic: r.position for r in found}
        self._flush(session, subscription, held, tops)

    def _send(self, session: Session, subscription: Subscription, entry: Entry) -> int:
        key = (subscription.id, entry.publication, session.codec.name)
        frame = self._frames.get(key)
        if frame is None:
            if len(self._frames) >= _FRAME_CACHE_SIZE:
                self._frames.clear()
            message = event_message(subscription, entry, recovered=True)
            frame = self._frames[key] = session.codec.frame_raw(message)
        session.transport.send_frame(frame)
        return 1

    def _flush(
        self,
        session: Session,
        subscription: Subscription,
        held: list[tuple[Entry | None, bytes]],
        tops: dict[str, Position],
    ) -> None:
        for entry, frame in held:
            if _follows(entry, tops):
                session.transport.send_frame(frame)
        if not tops:
            subscription.release(session)
            return

        # With a shared engine, publications the replay carried may still be on their way to
        # this process: for a while, the live frames of those are dropped too.
        def late(frame: bytes) -> None:
            if _follows(self._broker.delivering, tops):
                session.transport.send_frame(frame)

        subscription.hold(session, late)
        self._reactor.callLater(LATE_WINDOW, _unhold, session, subscription, late)

    def _failed(
        self,
        failure: Failure,
        session: Session,
        subscription: Subscription,
        held: list[tuple[Entry | None, bytes]],
    ) -> None:
        log.failure(
            "recovery failed for session {session}",
            failure,
            session=session.id,
            event="recovery.failed",
        )
        if subscription.has(session):
            gap = {"topic": subscription.pattern.uri, "gap": GAP_UNAVAILABLE, "recovered": 0}
            session.send_raw([EVENT, subscription.id, publication_id(), {"recovery": [gap]}])
            self._broker.tally.recovery(0, [GAP_UNAVAILABLE])
            self._flush(session, subscription, held, {})


def _follows(entry: Entry | None, tops: dict[str, Position]) -> bool:
    """Whether a live `entry` comes after what a replay up to `tops` carried."""
    top = None if entry is None else tops.get(entry.topic)
    return top is None or entry is None or top.epoch != entry.epoch or entry.offset > top.offset


def _unhold(session: Session, subscription: Subscription, sender: Any) -> None:
    """End a hold of `session`'s frames by `sender`, unless another has replaced it."""
    if subscription.members.get(session.codec, {}).get(session) is sender:
        subscription.release(session)


def _report(recovery: Found, sent: int) -> dict[str, Any]:
    return {
        "topic": recovery.topic,
        "offset": recovery.position.offset,
        "epoch": recovery.position.epoch,
        "recovered": sent,
        "gap": recovery.gap,
    }
