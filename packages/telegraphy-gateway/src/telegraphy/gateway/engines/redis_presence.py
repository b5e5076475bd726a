"""Presence in Redis, shared by every gateway of the Redis engine (docs/presence.rst).

Per channel topic, one hash of members (client id -> member JSON) and one of holders (client id
-> the gateway that holds the member). Each join and leave is one Lua script that changes
both and, when the member set changed, publishes the change on `<prefix>presence`, so every
gateway hears it once and exactly one gateway (the script's caller) made it.

Every gateway writes a heartbeat (Redis's own clock, so hosts' clocks do not matter) every
`timeout / 3` seconds, and in the same script removes the members of gateways silent for
`timeout` seconds: a gateway killed with SIGKILL loses its members within `timeout * 4 / 3`.
A gateway that was taken for dead (it could not reach Redis for a while) joins its members
again at its next heartbeat.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgpack
from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from .base import Member, PresenceChange

if TYPE_CHECKING:
    from .redis import Connection

log = Logger()

NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"

JOIN = (
    NOW
    + """
local fresh = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4] .. '\\n' .. ARGV[1])
redis.call('ZADD', KEYS[4], 'NX', now, ARGV[3])
if fresh == 1 then
  redis.call('PUBLISH', ARGV[5],
    cmsgpack.pack({'join', ARGV[4], ARGV[2], redis.call('HLEN', KEYS[1]), ARGV[3]}))
end
return fresh
"""
)

LEAVE = """
redis.call('SREM', KEYS[3], ARGV[3] .. '\\n' .. ARGV[1])
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
local member = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[4],
  cmsgpack.pack({'leave', ARGV[3], member, redis.call('HLEN', KEYS[1]), ARGV[2]}))
return 1
"""

HEARTBEAT = (
    NOW
    + """
local me, prefix = ARGV[1], ARGV[3]
local swept = redis.call('DEL', KEYS[2])
redis.call('ZADD', KEYS[1], now, me)
for _, gateway in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ARGV[2])) do
  local held = prefix .. 'pg:' .. gateway
  for _, entry in ipairs(redis.call('SMEMBERS', held)) do
    local cut = string.find(entry, '\\n', 1, true)
    local topic, client = string.sub(entry, 1, cut - 1), string.sub(entry, cut + 1)
    local members, holders = prefix .. 'pr:' .. topic, prefix .. 'ph:' .. topic
    if redis.call('HGET', holders, client) == gateway then
      local member = redis.call('HGET', members, client)
      redis.call('HDEL', members, client)
      redis.call('HDEL', holders, client)
      redis.call('PUBLISH', ARGV[4],
        cmsgpack.pack({'leave', topic, member, redis.call('HLEN', members), me}))
    end
  end
  redis.call('DEL', held)
  redis.call('ZREM', KEYS[1], gateway)
  redis.call('SET', prefix .. 'pswept:' .. gateway, '1', 'EX', 86400)
end
return swept
"""
)


class RedisPresence:
    def __init__(
        self, connection: Connection, prefix: bytes, timeout: float, reactor_: Any
    ) -> None:
        self._redis = connection
        self._prefix = prefix
        self.channel = prefix + b"presence"
        self._timeout = timeout
        self._reactor = reactor_
        self._me = secrets.token_hex(8).encode()  # this gateway, as holder of its members
        self._gateways = prefix + b"pgw"
        self._changed: Callable[[PresenceChange], None] = lambda change: None
        # What this process holds, to join again if it was taken for dead.
        self._held: dict[tuple[str, str], bytes] = {}
        self._beat: task.LoopingCall | None = None

    def bind(self, changed: Callable[[PresenceChange], None]) -> None:
        self._changed = changed

    def start(self) -> None:
        self._beat = task.LoopingCall(self._heartbeat)
        self._beat.clock = self._reactor
        self._beat.start(self._timeout / 3, now=True)

    def stop(self) -> None:
        # The members stay until the timeout: a client that reconnects to another gateway
        # meanwhile does not flap; the others leave when a gateway sweeps this one.
        if self._beat is not None and self._beat.running:
            self._beat.stop()

    def join(self, topic: str, member: Member) -> None:
        text = json.dumps(member.wire(), separators=(",", ":")).encode()
        self._held[(topic, member.client_id)] = text
        self._join(topic, member.client_id, text)

    def _join(self, topic: str, client_id: str, text: bytes) -> None:
        name = topic.encode()
        ran = self._redis.run(
            JOIN,
            [self._key(b"pr:", name), self._key(b"ph:", name), self._held_key(), self._gateways],
            [client_id.encode(), text, self._me, name, self.channel],
        )
        ran.addErrback(
            lambda f: log.failure(
                "cannot join {c} to {t}", f, c=client_id, t=topic, event="presence.join_failed"
            )
        )

    def leave(self, topic: str, client_id: str) -> None:
        self._held.pop((topic, client_id), None)
        name = topic.encode()
        ran = self._redis.run(
            LEAVE,
            [self._key(b"pr:", name), self._key(b"ph:", name), self._held_key()],
            [client_id.encode(), self._me, name, self.channel],
        )
        ran.addErrback(
            lambda f: log.failure(
                "cannot leave {c} from {t}", f, c=client_id, t=topic, event="presence.leave_failed"
            )
        )

    def members(self, topic: str) -> Deferred[list[Member]]:
        found = self._redis.run(
            "return redis.call('HVALS', KEYS[1])", [self._key(b"pr:", topic.encode())], []
        )
        return found.addCallback(lambda texts: [_member(text) for text in texts])

    def received(self, message: bytes) -> None:
        """A change published on the presence channel, by any gateway."""
        try:
            kind, topic, text, count, origin = msgpack.unpackb(message, raw=True)
            change = PresenceChange(
                kind.decode(), topic.decode(), _member(text), int(count), origin == self._me
            )
        except Exception:  # a message not written by this engine: say so, tell nobody
            log.failure(
                "ignoring a message on the Redis presence channel that is not a change",
                event="presence.bad_message",
            )
            return
        self._changed(change)

    def _heartbeat(self) -> None:
        ran = self._redis.run(
            HEARTBEAT,
            [self._gateways, self._prefix + b"pswept:" + self._me],
            [self._me, repr(self._timeout).encode(), self._prefix, self.channel],
        )
        ran.addCallbacks(
            self._beaten,
            lambda f: log.warn(
                "presence heartbeat: {e}", e=f.value, event="presence.heartbeat_failed"
            ),
        )

    def _beaten(self, swept: Any) -> None:
        if int(swept) and self._held:
            log.warn(
                "this gateway was taken for dead; joining its {n} members again",
                n=len(self._held),
                event="presence.rejoining",
            )
            for (topic, client_id), text in list(self._held.items()):
                self._join(topic, client_id, text)

    def _key(self, kind: bytes, name: bytes) -> bytes:
        return self._prefix + kind + name

    def _held_key(self) -> bytes:
        return self._prefix + b"pg:" + self._me


def _member(text: bytes) -> Member:
    wire = json.loads(text)
    return Member(wire["client_id"], wire.get("user"), wire.get("info"))
