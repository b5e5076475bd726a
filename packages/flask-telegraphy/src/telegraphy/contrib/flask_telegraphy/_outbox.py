"""The transactional outbox for Flask and SQLAlchemy: events written in the session's
transaction, then relayed.

With `TELEGRAPHY_OUTBOX = True`, model events are written to the `telegraphy_outbox` table as
the session flushes, and custom events sent with a session as they are sent, through that
session's connection: they commit or roll back with the change. A relay (a thread in each web
process, or `flask telegraphy relay`) delivers them in order. See docs/outbox.rst.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from telegraphy.core import (
    ConfigurationError,
    Envelope,
    OutboxRow,
    ProcessRelays,
    Relay,
    outbox_lag_gauge,
)
from telegraphy.core.transports import make_transport

from ._state import TelegraphyState

outbox_metadata = MetaData()
"""The outbox table's metadata: `outbox_metadata.create_all(engine)`, or add it to Alembic's
`target_metadata`."""

outbox_table = Table(
    "telegraphy_outbox",
    outbox_metadata,
    # SQLite gives rowids to INTEGER PRIMARY KEY columns only.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("envelope", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("leased_until", DateTime(timezone=True)),
    Column("done", DateTime(timezone=True)),
    Column("error", Text, nullable=False, default=""),
)
Index(
    "telegraphy_outbox_waiting",
    outbox_table.c.id,
    postgresql_where=outbox_table.c.done.is_(None),
    sqlite_where=outbox_table.c.done.is_(None),
)
Index("telegraphy_outbox_done", outbox_table.c.done)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes: they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SQLAlchemyOutboxStore:
    """The outbox table behind `engine`, for the relay (`telegraphy.core.OutboxStore`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, limit: int, lease: float) -> list[OutboxRow]:
        now = _now()
        t = outbox_table
        with self.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                # SQLite has one writer: take its lock first, so that two relays never both
                # read the same rows as free (a write to no row takes the lock all the same).
                connection.execute(update(t).where(t.c.id == 0).values(leased_until=None))
            # PostgreSQL: concurrent claims lock disjoint rows and do not wait on each other.
            taken = connection.execute(
                select(t.c.id, t.c.envelope)
                .where(t.c.done.is_(None))
                .order_by(t.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            ids = [row.id for row in taken]
            if not ids or self._busy(connection, ids, now):
                return []
            until = now + timedelta(seconds=lease)
            connection.execute(update(t).where(t.c.id.in_(ids)).values(leased_until=until))
        return [OutboxRow(row.id, json.loads(row.envelope)) for row in taken]

    def _busy(self, connection: Connection, ids: list[int], now: datetime) -> bool:
        """Whether another relay holds rows before or among `ids` (locked, so skipped), or a
        live lease: order comes first."""
        t = outbox_table
        waiting = t.c.done.is_(None)
        older = select(t.c.id).where(waiting, t.c.id <= ids[-1], t.c.id.not_in(ids)).limit(1)
        leased = select(t.c.id).where(waiting, t.c.leased_until > now).limit(1)
        return (
            connection.execute(older).first() is not None
            or connection.execute(leased).first() is not None
        )

    def settle(self, rows: Sequence[OutboxRow], error: str = "") -> None:
        t = outbox_table
        with self.engine.begin() as connection:
            connection.execute(
                update(t)
                .where(t.c.id.in_([row.id for row in rows]))
                .values(done=_now(), leased_until=None, error=error)
            )

    def release(self, rows: Sequence[OutboxRow]) -> None:
        if not rows:
            return
        t = outbox_table
        with self.engine.begin() as connection:
            connection.execute(
                update(t)
                .where(t.c.id.in_([row.id for row in rows]), t.c.done.is_(None))
                .values(leased_until=None)
            )

    def lag(self) -> float | None:
        t = outbox_table
        with self.engine.connect() as connection:
            # The first waiting row by id is the oldest, and the partial index finds it at once.
            oldest = connection.execute(
                select(t.c.created).where(t.c.done.is_(None)).order_by(t.c.id).limit(1)
            ).scalar()
        return None if oldest is None else max(0.0, (_now() - _aware(oldest)).total_seconds())

    def waiting(self) -> int:
        t = outbox_table
        with self.engine.connect() as connection:
            count = connection.execute(select(func.count()).where(t.c.done.is_(None))).scalar()
        return int(count or 0)

    def prune(self, older_than: float) -> int:
        t = outbox_table
        cutoff = _now() - timedelta(seconds=older_than)
        with self.engine.begin() as connection:
            return connection.execute(delete(t).where(t.c.done < cutoff)).rowcount


WROTE = "telegraphy.outbox"  # in session.info: the states that wrote rows in this transaction


def uses_outbox(state: TelegraphyState) -> bool:
    """Whether `state`'s events go through the outbox (not while capture_events() records)."""
    return state.settings.outbox.enabled and not state.capturing


def keep(session: Session, items: Sequence[tuple[TelegraphyState, Envelope]]) -> list[Any]:
    """Write the events of apps that use the outbox through `session`'s connection, in its
    transaction; return the others, to be sent once it commits."""
    written = [(state, envelope) for state, envelope in items if uses_outbox(state)]
    if written:
        write(session.connection(), [envelope for _, envelope in written])
        session.info.setdefault(WROTE, set()).update(state for state, _ in written)
    return [item for item in items if not uses_outbox(item[0])]


def transaction_ended(session: Session, committed: bool) -> None:
    """The session's outermost transaction ended: wake the relays if it committed rows."""
    states = session.info.pop(WROTE, set())
    if committed:
        wake(states)


def send_now(app: Flask, state: TelegraphyState, envelope: Envelope) -> None:
    """An event sent outside any transaction: into the outbox in a transaction of its own."""
    with engine_for(app).begin() as connection:
        write(connection, [envelope])
    wake([state])


def write(connection: Connection, envelopes: Iterable[Envelope]) -> None:
    """Add `envelopes` to the outbox through `connection`, in its transaction."""
    now = _now()
    connection.execute(
        insert(outbox_table),
        [
            {
                "name": e["name"],
                "event_id": e["meta"]["id"],
                "envelope": json.dumps(e, separators=(",", ":"), allow_nan=False),
                "created": now,
                "error": "",
            }
            for e in envelopes
        ],
    )


def engine_for(app: Flask) -> Engine:
    """The outbox's engine: TELEGRAPHY_OUTBOX_DATABASE (a URL or an Engine), else
    Flask-SQLAlchemy's default engine."""
    configured = app.config.get("TELEGRAPHY_OUTBOX_DATABASE")
    if isinstance(configured, Engine):
        return configured
    if isinstance(configured, str):
        return _engine_from_url(configured)
    sqlalchemy = app.extensions.get("sqlalchemy")
    if sqlalchemy is not None:
        with app.app_context():
            engine: Engine = sqlalchemy.engine
            return engine
    raise ConfigurationError(
        "TELEGRAPHY_OUTBOX is on but the relay has no database: set "
        "TELEGRAPHY_OUTBOX_DATABASE to the database URL (or Engine) of the sessions that "
        "write events, or use Flask-SQLAlchemy"
    )


_engines: dict[str, Engine] = {}


def _engine_from_url(url: str) -> Engine:
    with _lock:
        if url not in _engines:
            _engines[url] = create_engine(url)
        return _engines[url]


_lock = threading.Lock()  # over _engines
_relays = ProcessRelays()


def relay_for(app: Flask, state: TelegraphyState) -> Relay:
    """A relay delivering the outbox of `app` with its settings."""
    core = state.settings.core
    return Relay(
        SQLAlchemyOutboxStore(engine_for(app)),
        make_transport(core),
        state.settings.outbox,
        batch_size=core.batch_size,
        retry_max_delay=core.retry_max_delay,
    )


def start_relay(app: Flask, state: TelegraphyState) -> None:
    """Start the web process's relay thread for `app` and its lag metric (once)."""
    if state.settings.outbox.enabled:
        _relays.start_once(state, partial(_start, app, state))


def _start(app: Flask, state: TelegraphyState) -> Relay | None:
    register_metric(app)
    return relay_for(app, state) if state.settings.outbox.relay else None


def register_metric(app: Flask, registry: Any = None) -> bool:
    """The Prometheus gauge telegraphy_outbox_lag_seconds for `app`'s outbox, if
    prometheus_client is installed (the first app of a process that asks has it)."""
    store = SQLAlchemyOutboxStore(engine_for(app))

    def lag() -> float:
        # A scrape must not fail for a database that is away: it reports NaN instead.
        try:
            return store.lag() or 0.0
        except Exception:
            return math.nan

    return outbox_lag_gauge(lag, registry)


def wake(states: Iterable[TelegraphyState]) -> None:
    """Rows were committed: have the relays of this process look now."""
    for state in states:
        _relays.wake(state)


def stop_relays(timeout: float = 10.0) -> None:
    """Stop this process's relays; the batch in hand is settled first (at exit too)."""
    _relays.stop(timeout)


def is_running(state: TelegraphyState) -> bool:
    relay = _relays.get(state)
    return relay is not None and relay.running
