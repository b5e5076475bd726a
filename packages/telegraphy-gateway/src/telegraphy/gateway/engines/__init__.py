"""Engines: where the router keeps what outlives a connection (docs/engines.rst)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .base import Engine
from .memory import MemoryEngine
from .sqlite import SqliteEngine

if TYPE_CHECKING:
    from ..config import GatewayConfig


def open_engine(config: GatewayConfig) -> Engine:
    """The engine `[engine]` configures, with its state read back (SQLite)."""
    history = config.history
    if config.engine.kind == "memory":
        return MemoryEngine(history.policy, history.dedupe_window)
    if config.engine.kind == "redis":
        from .redis import RedisAddress, RedisEngine

        engine = config.engine
        address = RedisAddress.parse(engine.url, engine.password, engine.tls, engine.tls_ca)
        return RedisEngine(
            address,
            engine.prefix,
            history.policy,
            history.dedupe_window,
            presence_timeout=config.presence.timeout,
        )
    path = Path(config.engine.path)
    try:
        return SqliteEngine(path, history.policy, history.dedupe_window)
    except Exception as e:  # sqlite3.Error, OSError: say which file and why
        raise ConfigError(f"[engine] cannot open SQLite file {path.resolve()}: {e}") from e


__all__ = ["Engine", "MemoryEngine", "SqliteEngine", "open_engine"]
