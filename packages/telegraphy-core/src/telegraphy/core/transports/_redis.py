"""`transport = "redis"`: batches appended to a Redis stream that the gateways consume as a
group, so that the web app needs no HTTP path to any gateway and its events wait in Redis
while every gateway is down (docs/scaling.rst)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .._envelope import Envelope
from .._errors import ConfigurationError, TransportError
from .._settings import Settings
from .._signing import sign_entry
from ._http import _encode

PASSWORD_ENV = "TELEGRAPHY_REDIS_PASSWORD"
INGRESS_STREAM = "ingress"
"""The stream's name after the prefix: `telegraphy:ingress` by default."""


def ingress_stream(prefix: str) -> str:
    return prefix + INGRESS_STREAM


class RedisTransport:
    """One redis-py connection (reopened by redis-py after a failure); each batch one XADD."""

    def __init__(self, settings: Settings) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                'transport = "redis" needs the redis package: pip install "telegraphy-core[redis]"'
            ) from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._secret = settings.secret
        self._stream = ingress_stream(settings.redis_prefix)
        self._redis: Any = redis.Redis.from_url(
            settings.redis_url,
            password=os.environ.get(PASSWORD_ENV) or None,
            socket_timeout=settings.timeout,
            socket_connect_timeout=settings.timeout,
        )

    def check(self, envelope: Envelope) -> None:
        """Anything JSON carries goes; the envelope is JSON-safe already."""

    def deliver(self, batch: Sequence[Envelope]) -> None:
        body = _encode(batch)
        fields = {"body": body, **sign_entry(self._secret, self._stream, body)}
        try:
            self._redis.xadd(self._stream, fields)
        except self._errors as e:
            raise TransportError(f"cannot add to the Redis stream {self._stream}: {e!r}") from e

    def close(self) -> None:
        self._redis.close()
