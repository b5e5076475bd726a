"""The ingress through Redis: web apps with `transport = "redis"` append signed batches to
the `<prefix>ingress` stream, and the gateways of the installation consume it as one group
(each batch goes to one gateway), publishing each batch as the HTTP ingress would.

An entry is acknowledged (XACK, then removed) only once its events are in history, or once it
is refused for good (a wrong signature, an invalid event: logged, and copied to
`<prefix>ingress-refused` with the reason). While the engine cannot take publications the
entries stay in the stream. Entries that a gateway read but never acknowledged (it died) are
claimed by another after `CLAIM_IDLE` seconds. Publication is idempotent by event id, so an
entry published twice is delivered once.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from typing import TYPE_CHECKING, Any

import txredisapi
from twisted.internet import defer, task
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from telegraphy.core._signing import entry_signed

from ..transport.ingress import IngressError
from .base import EngineUnavailable
from .redis import RedisAddress, _endpoint, connection_factory

if TYPE_CHECKING:
    from ..transport.ingress import Ingress

log = Logger()

GROUP = b"gateways"
BATCH = 100
"""Entries read at a time."""
BLOCK_MS = 2000
"""How long one read waits for new entries, in milliseconds."""
CLAIM_IDLE = 30.0
"""Seconds after which an entry read by a gateway that never acknowledged it is claimed."""
RETRY = 1.0
"""Seconds before reading again after Redis or the engine failed."""
REFUSED_KEEP = 10_000
"""Refused entries kept in `<prefix>ingress-refused` for inspection, at most."""


class RedisIngress:
    """Consumes the ingress stream for this gateway, on a connection of its own (a blocking
    read would hold up the engine's commands)."""

    def __init__(self, address: RedisAddress, prefix: str, ingress: Ingress, secret: str) -> None:
        self._ingress = ingress
        self._secret = secret
        self._stream_name = prefix + "ingress"
        self._stream = self._stream_name.encode()
        self._refused = (prefix + "ingress-refused").encode()
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}".encode()
        self._address = address
        self._factory = connection_factory(address)
        self._redis = self._factory.handler
        self._running = False
        self._backlog = True  # read this consumer's own unacknowledged entries first
        self._loop: Deferred[None] | None = None
        self._claims: task.LoopingCall | None = None
        self.published = 0  # batches published (for the tests and /health)

    def start(self, reactor: Any) -> None:
        self._reactor = reactor
        self._factory.startConnecting(_endpoint(reactor, self._address))
        self._running = True
        self._loop = defer.ensureDeferred(self._run())
        self._claims = task.LoopingCall(self._claim)
        self._claims.clock = reactor
        self._claims.start(CLAIM_IDLE / 2, now=False)

    def stop(self) -> Deferred[None]:
        self._running = False
        if self._claims is not None and self._claims.running:
            self._claims.stop()
        stopped: Deferred[None] = self._factory.disconnect()
        return stopped.addErrback(lambda _: None)

    async def _run(self) -> None:
        created = False
        while self._running:
            try:
                if not created:
                    await self._create_group()
                    created = True
                await self._read_once()
            except Exception as e:  # Redis away, the engine unavailable: wait, then again
                if not self._running:
                    return
                if not isinstance(e, EngineUnavailable | txredisapi.ConnectionError):
                    log.failure(
                        "reading the Redis ingress stream failed",
                        Failure(),
                        event="redis_ingress.read_failed",
                    )
                self._backlog = True
                await task.deferLater(self._reactor, RETRY)

    async def _create_group(self) -> None:
        if not self._factory.size:
            raise EngineUnavailable("not connected to Redis")
        try:
            await self._redis.execute_command(
                "XGROUP", "CREATE", self._stream, GROUP, b"0", b"MKSTREAM"
            )
        except txredisapi.ResponseError as e:
            if b"BUSYGROUP" not in _bytes(e.args[0] if e.args else b""):
                raise

    async def _read_once(self) -> None:
        if not self._factory.size:
            raise EngineUnavailable("not connected to Redis")
        start = b"0" if self._backlog else b">"
        reply = await self._redis.execute_command(
            "XREADGROUP", "GROUP", GROUP, self._consumer, "COUNT", str(BATCH).encode(),
            "BLOCK", str(BLOCK_MS).encode(), "STREAMS", self._stream, start,
        )  # fmt: skip
        entries = reply[0][1] if reply else []
        if self._backlog and not entries:
            self._backlog = False  # caught up with what this consumer had read before
        for entry_id, fields in entries:
            if fields:  # an entry removed meanwhile comes back without fields
                await self._handle(entry_id, fields)
            else:
                await self._done(entry_id)

    async def _handle(self, entry_id: bytes, raw: list[bytes]) -> None:
        fields = dict(zip(raw[::2], raw[1::2], strict=False))
        body = fields.get(b"body", b"")
        signing = {k.decode(errors="replace"): _text(v) for k, v in fields.items() if k != b"body"}
        try:
            if not entry_signed(self._secret, self._stream_name, signing, body):
                raise IngressError(401, "bad_signature", "the entry is not signed with the secret")
            envelopes = self._envelopes(body)
        except IngressError as e:
            await self._refuse(entry_id, body, e)
            return
        try:
            await self._ingress.publish(envelopes)
        except IngressError as e:
            if e.status < 500:
                await self._refuse(entry_id, body, e)
                return
            # Unavailable, or shutting down: the entry stays, for later or another gateway.
            raise EngineUnavailable(str(e)) from None
        self.published += 1
        await self._done(entry_id)

    def _envelopes(self, body: bytes) -> list[Any]:
        try:
            value = json.loads(body)
        except ValueError as e:
            raise IngressError(400, "invalid_json", f"the entry is not valid JSON: {e}") from None
        events = value.get("events") if isinstance(value, dict) else None
        if not isinstance(events, list):
            raise IngressError(422, "invalid_event", 'an entry is {"events": [event, ...]}')
        return self._ingress.envelopes(events)

    async def _refuse(self, entry_id: bytes, body: bytes, error: IngressError) -> None:
        log.warn(
            "refused Redis ingress entry {entry}: {code}: {message}",
            entry=_text(entry_id),
            code=error.code,
            message=str(error),
            event="redis_ingress.refused",
        )
        await self._redis.execute_command(
            "XADD", self._refused, "MAXLEN", "~", str(REFUSED_KEEP).encode(), "*",
            "entry", entry_id, "code", error.code.encode(), "reason", str(error).encode(),
            "body", body[:65536],
        )  # fmt: skip
        await self._done(entry_id)

    async def _done(self, entry_id: bytes) -> None:
        await self._redis.execute_command("XACK", self._stream, GROUP, entry_id)
        await self._redis.execute_command("XDEL", self._stream, entry_id)

    def _claim(self) -> None:
        """Take over entries another gateway read and never acknowledged (it died)."""
        if not self._factory.size:
            return
        claimed = self._redis.execute_command(
            "XAUTOCLAIM", self._stream, GROUP, self._consumer,
            str(int(CLAIM_IDLE * 1000)).encode(), b"0-0", "COUNT", str(BATCH).encode(),
            "JUSTID",
        )  # fmt: skip

        def taken(reply: Any) -> None:
            if reply and reply[1]:
                log.info(
                    "claimed {n} Redis ingress entries of a gateway gone",
                    n=len(reply[1]),
                    event="redis_ingress.claimed",
                )
                self._backlog = True  # they are this consumer's now: read them

        claimed.addCallbacks(taken, lambda f: None)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
