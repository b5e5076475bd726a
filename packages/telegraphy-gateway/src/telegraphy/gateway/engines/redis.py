"""The Redis engine: streams, client records and spent tokens in one Redis server, shared by
every gateway process that names it (docs/scaling.rst).

A publication is one Lua script: the topic's offset increment, the history append, the event
id's record and the PUBLISH on the engine's channel happen atomically, so two gateways never
give one offset twice and every gateway receives a topic's publications in offset order. Each
gateway subscribes to that one channel and hands what arrives to its broker; a gap (the
subscription was lost for a while) is filled from the history before later publications.

The client is txredisapi: Twisted-native (the reactor stays as it is), and in the measurement
that chose it (`make bench`, group redis) it spent less CPU per publication than redis-py's
asyncio client on Twisted's asyncio reactor.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import msgpack
import txredisapi
from twisted.internet import defer, reactor, task
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IReactorTime
from twisted.internet.ssl import Certificate, optionsForClientTLS
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..router.ids import publication_id
from ..router.uri import Pattern
from .base import (
    GAP_EPOCH_CHANGED,
    GAP_INVALID_POSITION,
    GAP_TOO_MANY,
    GAP_TOO_OLD,
    Accepted,
    ClientRecord,
    Clock,
    Deliver,
    Draft,
    EngineUnavailable,
    Entry,
    HistoryPolicy,
    Position,
    Recovery,
    Since,
)
from .memory import EXPIRY_INTERVAL, new_epoch
from .redis_presence import RedisPresence
from .serial import pack, record_from_json, record_to_json, unpack

log = Logger()

META_TTL = 7 * 86400.0
"""Seconds a topic's offset and epoch outlive its last publication (then its epoch changes)."""
CATCH_UP_WAIT = 3.0
"""Seconds a publisher or a recovery waits for this process to receive what Redis kept,
before it goes on without (a log line says so)."""
CATCH_UP_MARGIN = 60.0
"""Seconds before the channel was lost from which a reconnecting gateway looks for what it
missed (topics published since then are read from their history)."""
CATCH_UP_RETRY = 1.0
"""Seconds before reading again what this process missed, when the read failed (the commands'
connection to Redis may come back after the subscription does)."""
MAX_PENDING = 10_000
"""Publications waiting for Redis at most; more are refused until Redis answers."""
REPLY_TIMEOUT = 5.0

PUBLISH = """
local meta, stream, idkey, topics = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local topic, payload, fresh, size, ttl_ms, now, event_id, window_ms, channel, meta_ms,
  publication = unpack(cmsgpack.unpack(ARGV[1]))
if event_id ~= '' then
  local known = redis.call('GET', idkey)
  if known and tonumber(string.match(known, '([^\\n]+)$')) * 1000 + window_ms > now * 1000 then
    return {0, known}
  end
end
local state = redis.call('HMGET', meta, 'epoch', 'time')
local epoch = state[1]
if not epoch then
  epoch = fresh
  redis.call('DEL', stream)
end
local last = tonumber(state[2] or '0')
if last > now then now = last end
local stamp = string.format('%.17g', now)
local offset = redis.call('HINCRBY', meta, 'top', 1)
redis.call('HSET', meta, 'epoch', epoch, 'time', stamp)
if size > 0 then
  local excess = redis.call('XLEN', stream) - size + 1
  if excess > 0 then
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess)
    if #oldest > 0 then redis.call('HSET', meta, 'dropped', oldest[#oldest][2][2]) end
  end
  redis.call('XADD', stream, 'MAXLEN', size, offset .. '-1',
    't', stamp, 'p', publication, 'e', event_id, 'd', payload)
  redis.call('PEXPIRE', stream, ttl_ms)
else
  redis.call('HSET', meta, 'dropped', stamp)
end
redis.call('PEXPIRE', meta, meta_ms)
redis.call('ZADD', topics, now, topic)
if event_id ~= '' then
  redis.call('SET', idkey, topic .. '\\n' .. offset .. '\\n' .. epoch .. '\\n' .. stamp,
    'PX', window_ms)
end
redis.call('PUBLISH', channel,
  cmsgpack.pack({topic, offset, epoch, stamp, publication, event_id, payload}))
return {1, offset, epoch, stamp}
"""

READ = """
local state = redis.call('HMGET', KEYS[1], 'top', 'epoch', 'dropped', 'time')
local entries
if ARGV[1] == 'after' then
  entries = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-1', '+', 'COUNT', ARGV[3])
elseif ARGV[1] == 'last' then
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[3])
else
  entries = redis.call('XRANGE', KEYS[2], '-', '+')
end
return {state, entries}
"""

SPEND = """
local known = redis.call('GET', KEYS[1])
if known and tonumber(known) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


@dataclass(frozen=True)
class RedisAddress:
    """Where the Redis server is, parsed from `redis://` or `rediss://` (TLS) URLs."""

    host: str
    port: int
    db: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca: str | None = None  # a PEM file of the authority to trust instead of the system's

    @classmethod
    def parse(
        cls, url: str, password: str | None = None, tls: bool = False, ca: str | None = None
    ) -> RedisAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"{url!r} is not a redis:// or rediss:// URL")
        path = parts.path.lstrip("/")
        if path and not path.isdigit():
            raise ValueError(f"the database in {url!r} must be a number")
        given = unquote(parts.password) if parts.password else None
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            db=int(path or 0),
            tls=tls or parts.scheme == "rediss",
            username=unquote(parts.username) if parts.username else None,
            password=password or given,
            ca=ca,
        )

    def __str__(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://{self.host}:{self.port}/{self.db}"


class _Commands(txredisapi.RedisProtocol):  # type: ignore[misc]
    """txredisapi's protocol (with hiredis's reply parser when installed), building each
    command in one pass: the engine sends bytes and integers only."""

    def _build_command(self, *args: Any, **kwargs: Any) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            value = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(value), value))
        return b"".join(parts)


def connection_factory(
    address: RedisAddress, kind: Any = txredisapi.RedisFactory, protocol: Any = None
) -> Any:
    """txredisapi's factory (of `kind`) of one reconnecting connection to `address`, speaking
    bytes, with `protocol` (by default the engine's command protocol)."""
    factory = kind(
        str(address),
        address.db or None,
        1,
        isLazy=True,
        charset=None,
        password=address.password,
        replyTimeout=None,
        convertNumbers=False,
        username=address.username,
    )
    factory.protocol = _Commands if protocol is None else protocol
    factory.maxDelay = 5  # seconds between reconnection attempts, at most
    return factory


class Connection:
    """The engine's command connection: one, so that commands run in the order given. What is
    asked in one turn of the reactor goes to Redis in one pipeline (one write, one read)."""

    def __init__(self, address: RedisAddress, reactor_: Any) -> None:
        self.address = address
        self._reactor = reactor_
        # No reply timeout per command: one timer per pipeline instead (`_send`).
        self._factory = connection_factory(address)
        self._factory.startConnecting(_endpoint(reactor_, address))
        self.redis = self._factory.handler
        self._queue: list[tuple[bytes, bytes, list[bytes], list[Any], Deferred[Any]]] = []
        self.reply_timeout = REPLY_TIMEOUT

    @property
    def connected(self) -> bool:
        return bool(self._factory.size)

    def run(self, script: str, keys: list[bytes], args: list[Any]) -> Deferred[Any]:
        """Run a Lua script by its hash (sent in full when Redis does not know it)."""
        if not self.connected:
            return defer.fail(EngineUnavailable(f"cannot reach Redis at {self.address}"))
        body = script.encode()
        ran: Deferred[Any] = Deferred()
        self._queue.append((body, _sha(body), keys, args, ran))
        if len(self._queue) == 1:
            self._reactor.callLater(0, self._flush)
        return ran.addErrback(_unavailable, self.address)

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        if not self.connected:
            for *_, ran in batch:
                ran.errback(EngineUnavailable(f"cannot reach Redis at {self.address}"))
            return
        self.redis.pipeline().addCallbacks(self._send, self._failed, (batch,), None, (batch,))

    def _send(self, pipeline: Any, batch: list[Any]) -> None:
        replies = [
            pipeline.execute_command("EVALSHA", sha, len(keys), *keys, *args)
            for _, sha, keys, args, _ in batch
        ]
        for (body, _, keys, args, ran), reply in zip(batch, replies, strict=True):
            reply.addCallbacks(ran.callback, self._unknown, errbackArgs=(body, keys, args, ran))
        # Redis that does not answer in time is given up on: the connection is dropped, every
        # reply waited for fails (EngineUnavailable), and txredisapi reconnects.
        timer = self._reactor.callLater(self.reply_timeout, pipeline.transport.abortConnection)
        executed = pipeline.execute_pipeline()
        executed.addBoth(lambda _: timer.cancel() if timer.active() else None)

    def _unknown(
        self, failure: Failure, body: bytes, keys: list[bytes], args: list[Any], ran: Deferred[Any]
    ) -> None:
        """Redis does not know the script yet (it started, or restarted): send it in full."""
        if failure.check(txredisapi.ResponseError) and "NOSCRIPT" in str(failure.value):
            again: Deferred[Any] = self.redis.execute_command("EVAL", body, len(keys), *keys, *args)
            again.chainDeferred(ran)
        else:
            ran.errback(failure)

    @staticmethod
    def _failed(failure: Failure, batch: list[Any]) -> None:
        for *_, ran in batch:
            ran.errback(failure)

    def stop(self) -> Deferred[None]:
        stopped: Deferred[None] = self._factory.disconnect()
        return stopped.addErrback(lambda _: None)


@functools.cache
def _sha(body: bytes) -> bytes:
    return hashlib.sha1(body).hexdigest().encode()  # Redis names scripts by their SHA-1


class Epochs:
    """New epochs for streams a publication may create: unique without a system call each
    (a random part per process, and a counter)."""

    def __init__(self) -> None:
        self._base = new_epoch()
        self._count = itertools.count()

    def fresh(self) -> bytes:
        return f"{self._base}{next(self._count):x}".encode()


def _endpoint(reactor_: Any, address: RedisAddress) -> Any:
    endpoint = HostnameEndpoint(reactor_, address.host, address.port, timeout=5)
    if address.tls:
        trust = None
        if address.ca is not None:
            trust = Certificate.loadPEM(Path(address.ca).read_bytes())
        return wrapClientTLS(optionsForClientTLS(address.host, trustRoot=trust), endpoint)
    return endpoint


def _unavailable(failure: Failure, address: RedisAddress) -> Failure:
    if failure.check(EngineUnavailable):
        return failure
    if failure.check(txredisapi.ConnectionError, txredisapi.TimeoutError):
        raise EngineUnavailable(f"Redis at {address} did not answer: {failure.value}")
    return failure


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _Subscriber(txredisapi.SubscriberProtocol):  # type: ignore[misc]
    factory: _SubscriberFactory

    def messageReceived(self, pattern: Any, channel: Any, message: bytes) -> None:
        if channel == self.factory.streams.channel:
            self.factory.streams.received(message)
        elif channel == self.factory.streams.presence_channel:
            self.factory.streams.presence(message)
        else:
            self.factory.streams.control(message)

    def connectionLost(self, why: Failure) -> None:
        self.factory.streams.unsubscribed()
        super().connectionLost(why)


class _SubscriberFactory(txredisapi.RedisFactory):  # type: ignore[misc]
    streams: RedisStreams

    def addConnection(self, conn: _Subscriber) -> None:
        super().addConnection(conn)
        if conn.connected:
            self.streams.subscribe(conn)


class _Waiter:
    __slots__ = ("deadline", "deferred", "position")

    def __init__(self, position: Position, deadline: float) -> None:
        self.position = position
        self.deadline = deadline
        self.deferred: Deferred[None] = Deferred()


class RedisStreams:
    """Streams kept in Redis. What this process delivers arrives through the engine's channel,
    its own publications included, so every process delivers a topic in the same order."""

    def __init__(
        self,
        connection: Connection,
        prefix: bytes,
        policy: Callable[[str], HistoryPolicy],
        dedupe_window: float,
        clock: Clock,
        reactor_: IReactorTime,
    ) -> None:
        self._redis = connection
        self._prefix = prefix
        self._channel = self.channel = prefix + b"events"
        self.control_channel = prefix + b"control"
        self.control: Callable[[bytes], None] = lambda message: None
        self.presence_channel = prefix + b"presence"
        self.presence: Callable[[bytes], None] = lambda message: None
        self._topics_key = prefix + b"topics"
        self._policy = policy
        self._dedupe_window = dedupe_window
        self._clock = clock
        self._reactor = reactor_
        self._deliver: Deliver = _nowhere
        self.subscriber = connection_factory(connection.address, _SubscriberFactory, _Subscriber)
        self.subscriber.streams = self
        self.listening = False
        self._lost_at: float | None = None  # when the channel was lost (None: never listened)
        self._delivered: dict[str, Position] = {}  # what this process delivered, per topic
        self._known: dict[str, Position] = {}  # tops read for `follow`
        self._waiting: dict[str, deque[_Waiter]] = {}
        # Topics whose gap is being filled from history, with what arrived meanwhile.
        self._filling: dict[str, deque[Entry]] = {}
        self._pending = 0
        self._epochs = Epochs()
        self.max_pending = MAX_PENDING
        self._late_sweep: task.LoopingCall | None = None
        self._window_ms = max(1, int(dedupe_window * 1000))

    def start(self) -> None:
        self.subscriber.startConnecting(_endpoint(self._reactor, self._redis.address))
        self._late_sweep = task.LoopingCall(self._late)
        self._late_sweep.clock = self._reactor
        self._late_sweep.start(CATCH_UP_WAIT / 4, now=False)

    def stop(self) -> Deferred[None]:
        if self._late_sweep is not None and self._late_sweep.running:
            self._late_sweep.stop()
        for waiters in self._waiting.values():
            for waiter in waiters:
                if not waiter.deferred.called:
                    waiter.deferred.callback(None)
        stopped: Deferred[None] = self.subscriber.disconnect()
        return stopped.addErrback(lambda _: None)

    def bind(self, deliver: Deliver) -> None:
        self._deliver = deliver

    # -- publishing ------------------------------------------------------------------------

    def publish(self, draft: Draft) -> Deferred[Accepted]:
        problem = self.problem()
        if problem is not None:
            return defer.fail(EngineUnavailable(problem))
        if self._pending >= self.max_pending:
            log.warn(
                "refusing a publication: {n} are waiting for Redis",
                n=self._pending,
                event="engine.overloaded",
            )
            return defer.fail(EngineUnavailable("Redis is slow; try again later"))
        self._pending += 1
        policy = self._policy(draft.topic)
        topic = draft.topic.encode()
        event_id = (draft.event_id or "").encode()
        publication = publication_id()
        now = self._clock()
        # The arguments as one MessagePack array: fewer to encode, in Python and in Redis.
        arguments = msgpack.packb(
            [
                topic,
                pack(draft),
                self._epochs.fresh(),
                policy.size,
                max(1, int(policy.ttl * 1000)),
                now,
                event_id,
                self._window_ms,
                self._channel,
                int(max(META_TTL, policy.ttl) * 1000),
                str(publication).encode(),
            ],
            use_bin_type=False,  # Redis's cmsgpack reads MessagePack's older string form
        )
        ran = self._redis.run(
            PUBLISH,
            [
                self._key(b"m:", topic),
                self._key(b"s:", topic),
                self._key(b"id:", event_id) if event_id else self._key(b"m:", topic),
                self._topics_key,
            ],
            [arguments],
        )

        def done(result: object) -> object:
            self._pending -= 1
            return result

        ran.addBoth(done)
        return ran.addCallback(self._published, draft, publication)

    def _published(self, reply: list[Any], draft: Draft, publication: int) -> Any:
        if int(reply[0]) == 0:  # an event id seen before: where its first copy was kept
            topic, offset, epoch, stamp = _text(reply[1]).split("\n")
            light = Entry(
                Draft(topic, event_id=draft.event_id), int(offset), epoch, 0, float(stamp)
            )
            return Accepted(light, duplicate=True)
        entry = Entry(draft, int(reply[1]), _text(reply[2]), publication, float(reply[3]))
        reached = self._reached(draft.topic, entry.position)
        return reached.addCallback(lambda _: Accepted(entry))

    def _key(self, kind: bytes, name: bytes) -> bytes:
        return self._prefix + kind + name

    # -- receiving -------------------------------------------------------------------------

    def subscribe(self, connection: _Subscriber) -> None:
        subscribed = connection.subscribe(
            [self._channel, self.control_channel, self.presence_channel]
        )
        subscribed.addCallback(lambda _: self._listening())
        subscribed.addErrback(
            lambda f: log.failure("cannot subscribe to Redis", f, event="redis.subscribe_failed")
        )

    def _listening(self) -> None:
        lost_at, self._lost_at = self._lost_at, None
        self.listening = True
        log.info(
            "listening to Redis at {address}", address=self._redis.address, event="redis.listening"
        )
        if lost_at is not None:
            self._catch_up_since(lost_at)

    def unsubscribed(self) -> None:
        if self.listening:
            log.warn(
                "lost the subscription to Redis at {a}; reconnecting",
                a=self._redis.address,
                event="redis.reconnecting",
            )
            self.listening = False
            self._lost_at = self._clock()
        elif self._lost_at is None:
            self._lost_at = self._clock()

    def received(self, message: bytes) -> None:
        try:
            topic, offset, epoch, stamp, publication, event_id, payload = msgpack.unpackb(
                message, raw=True
            )
            name = topic.decode()
            entry = Entry(
                unpack(name, event_id.decode() or None, payload),
                int(offset),
                epoch.decode(),
                int(publication),
                float(stamp),
            )
        except Exception:  # a message not written by this engine: say so, deliver nothing
            log.failure(
                "ignoring a message on the Redis channel that is not a publication",
                event="redis.bad_message",
            )
            return
        self._arrived(entry)

    def _arrived(self, entry: Entry) -> None:
        topic = entry.topic
        filling = self._filling.get(topic)
        if filling is not None:
            filling.append(entry)
            return
        last = self._delivered.get(topic)
        if last is not None and last.epoch == entry.epoch:
            if entry.offset <= last.offset:
                return  # delivered already (by a catch-up)
            if entry.offset > last.offset + 1:
                self._fill(topic, last, entry)
                return
        self._hand_over(entry)

    def _hand_over(self, entry: Entry) -> None:
        self._delivered[entry.topic] = entry.position
        self._deliver(entry)
        waiters = self._waiting.get(entry.topic)
        # Waiters come in offset order (Redis answers publications in the order it ran them).
        while waiters and waiters[0].position.epoch == entry.epoch:
            if waiters[0].position.offset > entry.offset:
                break
            waiters.popleft().deferred.callback(None)
        if waiters is not None and not waiters:
            del self._waiting[entry.topic]

    def _fill(self, topic: str, last: Position, arrived: Entry | None) -> None:
        """Deliver what this process missed on `topic` after `last` from history, then what
        arrived meanwhile, in order."""
        queue: deque[Entry] = deque([arrived] if arrived is not None else [])
        self._filling[topic] = queue
        self._read_missed(topic, last, queue)

    def _read_missed(self, topic: str, last: Position, queue: deque[Entry]) -> None:
        read = self._read(topic, "after", last.offset + 1, MAX_PENDING)

        def fill(result: tuple[dict[str, Any], list[Entry]]) -> None:
            _, entries = result
            queue.extendleft(reversed([e for e in entries if e.epoch == last.epoch]))
            self._drain(topic, queue)

        def failed(failure: Failure) -> None:
            log.failure(
                "cannot fill a gap on {topic}", failure, topic=topic, event="redis.gap_fill_failed"
            )
            if self.listening:  # read again: what arrives meanwhile waits in the queue
                self._reactor.callLater(CATCH_UP_RETRY, self._read_missed, topic, last, queue)
            else:  # the catch-up after the subscription returns reads it
                self._drain(topic, queue)

        read.addCallbacks(fill, failed)

    def _drain(self, topic: str, queue: deque[Entry]) -> None:
        del self._filling[topic]
        for entry in sorted(queue, key=lambda e: e.offset):
            done = self._delivered.get(topic)
            if done is None or done.epoch != entry.epoch or entry.offset > done.offset:
                self._hand_over(entry)  # what history no longer had stays missing

    def _catch_up_since(self, lost_at: float) -> None:
        """The channel was lost: fill, for every topic published since, what it missed. The
        margin covers the publishing gateways' clocks, and publications Redis made just before
        it stopped but never sent to this subscriber."""
        found = self._redis.run(
            "return redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')",
            [self._topics_key],
            [repr(lost_at - CATCH_UP_MARGIN).encode()],
        )

        def fill(topics: list[bytes]) -> None:
            # Topics this process never delivered had no subscriber here to miss them.
            for topic in (raw.decode() for raw in topics):
                last = self._delivered.get(topic)
                if last is not None and topic not in self._filling:
                    self._fill(topic, last, None)

        def failed(failure: Failure) -> None:
            log.failure(
                "cannot catch up after reconnecting", failure, event="redis.catch_up_failed"
            )
            if self.listening:  # else the next subscription catches up from then
                self._reactor.callLater(CATCH_UP_RETRY, self._catch_up_again, lost_at)

        found.addCallbacks(fill, failed)

    def _catch_up_again(self, lost_at: float) -> None:
        if self.listening:
            self._catch_up_since(lost_at)

    def _reached(self, topic: str, position: Position) -> Deferred[None]:
        """Fires once this process delivered `position` on `topic` (or after CATCH_UP_WAIT)."""
        last = self._delivered.get(topic)
        if position.offset == 0 or (
            last is not None and last.epoch == position.epoch and last.offset >= position.offset
        ):
            return defer.succeed(None)
        waiter = _Waiter(position, self._reactor.seconds() + CATCH_UP_WAIT)
        self._waiting.setdefault(topic, deque()).append(waiter)
        return waiter.deferred

    def _late(self) -> None:
        """Let publishers and recoveries go on without what has not arrived from Redis."""
        now = self._reactor.seconds()
        for topic, waiters in list(self._waiting.items()):
            while waiters and waiters[0].deadline <= now:
                waiter = waiters.popleft()
                log.warn(
                    "{topic} {offset} has not arrived from Redis in {s} s; going on without it",
                    topic=topic,
                    offset=waiter.position.offset,
                    s=CATCH_UP_WAIT,
                    event="redis.publication_late",
                )
                waiter.deferred.callback(None)
            if not waiters:
                del self._waiting[topic]

    # -- reading ---------------------------------------------------------------------------

    def _read(
        self, topic: str, mode: str, offset: int = 0, count: int = 0
    ) -> Deferred[tuple[dict[str, Any], list[Entry]]]:
        name = topic.encode()
        ran = self._redis.run(
            READ,
            [self._key(b"m:", name), self._key(b"s:", name)],
            [mode.encode(), str(offset).encode(), str(count).encode()],
        )
        return ran.addCallback(self._entries, topic)

    @staticmethod
    def _entries(reply: list[Any], topic: str) -> tuple[dict[str, Any], list[Entry]]:
        top, raw_epoch, dropped, last = reply[0]
        epoch = _text(raw_epoch) if raw_epoch else ""
        state = {
            "top": int(top or 0),
            "epoch": epoch,
            "dropped": float(dropped or 0.0),
            "time": float(last or 0.0),
        }
        entries = []
        for entry_id, fields in reply[1] or []:
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            offset = int(_text(entry_id).split("-")[0])
            event_id = _text(values[b"e"]) or None
            entries.append(
                Entry(
                    unpack(topic, event_id, values[b"d"]),
                    offset,
                    epoch,
                    int(values[b"p"]),
                    float(values[b"t"]),
                )
            )
        return state, entries

    def recover(self, topic: str, since: Since, limit: int) -> Deferred[Recovery]:
        if since.position is not None:
            read = self._read(topic, "after", since.position.offset + 1, limit + 1)
        else:
            read = self._read(topic, "all")
        # Live frames of what the replay carries may still be on their way here: the broker
        # drops those after the replay (router/recovery.py).
        return read.addCallback(lambda r: self._recovery(topic, since, limit, *r))

    def _recovery(
        self, topic: str, since: Since, limit: int, state: dict[str, Any], entries: list[Entry]
    ) -> Recovery:
        top = Position(state["top"], state["epoch"])
        if not state["epoch"]:  # never published, or forgotten
            lost = since.position is not None and since.position.offset != 0
            return Recovery(topic, Position(0, ""), gap=GAP_EPOCH_CHANGED if lost else None)
        oldest = self._clock() - self._policy(topic).ttl
        kept = [e for e in entries if e.time >= oldest]
        dropped = max([state["dropped"]] + [e.time for e in entries if e.time < oldest])
        position = since.position
        if position is not None:
            if position.offset != 0 and position.epoch != top.epoch:
                return Recovery(topic, top, gap=GAP_EPOCH_CHANGED)
            if not 0 <= position.offset <= top.offset:
                return Recovery(topic, top, gap=GAP_INVALID_POSITION)
            if position.offset < top.offset and (not kept or kept[0].offset != position.offset + 1):
                return Recovery(topic, top, gap=GAP_TOO_OLD)
            missed = kept
        else:
            start = since.time or 0.0
            if not entries and top.offset > 0:
                dropped = max(dropped, state["time"])  # the whole stream expired
            if dropped >= start:
                return Recovery(topic, top, gap=GAP_TOO_OLD)
            missed = [e for e in kept if e.time >= start]
        if len(missed) > limit:
            return Recovery(topic, top, gap=GAP_TOO_MANY)
        return Recovery(topic, top, tuple(missed))

    def history(self, topic: str, limit: int) -> Deferred[list[Entry]]:
        if limit <= 0:
            return defer.succeed([])
        read = self._read(topic, "last", 0, limit)

        def newest(result: tuple[dict[str, Any], list[Entry]]) -> list[Entry]:
            oldest = self._clock() - self._policy(topic).ttl
            return [e for e in reversed(result[1]) if e.time >= oldest]

        return read.addCallback(newest)

    def topics(self, pattern: Pattern) -> Deferred[list[str]]:
        found = self._redis.run(
            "return redis.call('ZRANGE', KEYS[1], 0, -1)", [self._topics_key], []
        )
        return found.addCallback(lambda names: [t for n in names if pattern.matches(t := _text(n))])

    def top(self, topic: str) -> Position | None:
        return self._delivered.get(topic) or self._known.get(topic)

    def follow(self, topic: str) -> None:
        if topic in self._delivered or topic in self._known:
            return
        read = self._redis.run(
            "return redis.call('HMGET', KEYS[1], 'top', 'epoch')",
            [self._key(b"m:", topic.encode())],
            [],
        )

        def known(reply: list[Any]) -> None:
            top, epoch = reply
            if epoch and topic not in self._delivered:
                self._known[topic] = Position(int(top), _text(epoch))

        read.addCallbacks(
            known,
            lambda f: log.failure(
                "cannot read the top of {t}", f, t=topic, event="redis.top_read_failed"
            ),
        )

    def problem(self) -> str | None:
        if not self._redis.connected:
            return f"cannot reach Redis at {self._redis.address}"
        if not self.listening:
            return f"not subscribed to Redis at {self._redis.address} yet"
        return None

    def expire(self) -> None:
        """Forget tops of topics this process stopped hearing of, and old topic names."""
        idle = [t for t, p in self._known.items() if t not in self._delivered]
        for topic in idle[: len(idle) // 2]:
            del self._known[topic]
        now = self._clock()
        trimmed = self._redis.run(
            "return redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])",
            [self._topics_key],
            [repr(now - META_TTL).encode()],
        )
        trimmed.addErrback(lambda _: None)


def _nowhere(entry: Entry) -> None:
    raise RuntimeError("streams are not bound to a broker")


class RedisClientStore:
    """Client records as JSON, each expiring in Redis when the record does. Which process
    holds a client id goes on the control channel, so that one session holds it at a time."""

    def __init__(
        self, connection: Connection, prefix: bytes, clock: Clock, streams: RedisStreams
    ) -> None:
        self._redis = connection
        self._prefix = prefix + b"c:"
        self._clock = clock
        self._channel = streams.control_channel
        self._me = secrets.token_hex(8).encode()  # this process, on the control channel
        self._taken: Callable[[str], None] = lambda client_id: None
        streams.control = self._control

    def hold(self, client_id: str) -> None:
        told = self._redis.run(
            "return redis.call('PUBLISH', KEYS[1], ARGV[1])",
            [self._channel],
            [self._me + b" " + client_id.encode()],
        )
        told.addErrback(
            lambda f: log.failure(
                "cannot announce client {c}", f, c=client_id, event="redis.client_announce_failed"
            )
        )

    def bind_taken(self, taken: Callable[[str], None]) -> None:
        self._taken = taken

    def _control(self, message: bytes) -> None:
        holder, _, client_id = message.partition(b" ")
        if holder != self._me and client_id:
            self._taken(client_id.decode(errors="replace"))

    def get(self, client_id: str, now: float) -> Deferred[ClientRecord | None]:
        read = self._redis.run(
            "return redis.call('GET', KEYS[1])", [self._prefix + client_id.encode()], []
        )

        def record(text: bytes | None) -> ClientRecord | None:
            if not text:
                return None
            found = record_from_json(json.loads(text))
            return found if found.expires_at > now else None

        return read.addCallback(record)

    def put(self, record: ClientRecord) -> None:
        ttl_ms = max(1000, int((record.expires_at - self._clock()) * 1000))
        written = self._redis.run(
            "return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])",
            [self._prefix + record.client_id.encode()],
            [json.dumps(record_to_json(record)).encode(), str(ttl_ms).encode()],
        )
        written.addErrback(
            lambda f: log.failure(
                "cannot keep client record {c}",
                f,
                c=record.client_id,
                event="redis.client_record_failed",
            )
        )


class RedisTokenLedger:
    def __init__(self, connection: Connection, prefix: bytes, clock: Clock) -> None:
        self._redis = connection
        self._prefix = prefix + b"t:"
        self._clock = clock

    def spend(self, token_id: str, expires_at: float) -> Deferred[bool]:
        now = self._clock()
        ttl_ms = max(1000, int((expires_at - now) * 1000))
        spent = self._redis.run(
            SPEND,
            [self._prefix + token_id.encode()],
            [repr(now).encode(), repr(expires_at).encode(), str(ttl_ms).encode()],
        )
        return spent.addCallback(lambda fresh: int(fresh) == 1)


class RedisEngine:
    """Everything in one Redis server, shared by the gateways that name it."""

    name = "redis"
    shared = True

    def __init__(
        self,
        address: RedisAddress,
        prefix: str,
        policy: Callable[[str], HistoryPolicy],
        dedupe_window: float,
        clock: Clock = time.time,
        reactor_: Any = None,
        presence_timeout: float = 15.0,
    ) -> None:
        self._reactor = reactor_ if reactor_ is not None else reactor
        self.address = address
        self.connection = Connection(address, self._reactor)
        key_prefix = prefix.encode()
        self.streams = RedisStreams(
            self.connection, key_prefix, policy, dedupe_window, clock, self._reactor
        )
        self.clients = RedisClientStore(self.connection, key_prefix, clock, self.streams)
        self.tokens = RedisTokenLedger(self.connection, key_prefix, clock)
        self.presence = RedisPresence(self.connection, key_prefix, presence_timeout, self._reactor)
        self.streams.presence = self.presence.received
        self._sweep: task.LoopingCall | None = None

    def start(self) -> None:
        self.streams.start()
        self.presence.start()
        self._sweep = task.LoopingCall(self.streams.expire)
        self._sweep.clock = self._reactor
        self._sweep.start(EXPIRY_INTERVAL * 12, now=False)

    def expire(self) -> None:
        self.streams.expire()

    def problem(self) -> str | None:
        return self.streams.problem()

    def stop(self) -> Deferred[None]:
        if self._sweep is not None and self._sweep.running:
            self._sweep.stop()
        self.presence.stop()
        stopped = defer.gatherResults(
            [self.streams.stop(), self.connection.stop()], consumeErrors=True
        )
        return stopped.addBoth(lambda _: None)
