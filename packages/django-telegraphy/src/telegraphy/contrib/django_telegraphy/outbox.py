"""The transactional outbox for Django: events written in the change's transaction, then relayed.

With `TELEGRAPHY = {"OUTBOX": True}`, `send_after_commit` writes the event to the
`telegraphy_outbox` table of the database the change went to, in the same transaction; a
relay (a thread in each web process, or `manage.py telegraphy_relay`) delivers the rows in
order. See docs/outbox.rst.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

from telegraphy.core import Envelope, OutboxRow, ProcessRelays, Relay
from telegraphy.core.transports import make_transport

from .conf import get_settings, outbox_databases
from .models import OutboxEvent


class DjangoOutboxStore:
    """The outbox table of one database, for the relay (`telegraphy.core.OutboxStore`)."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using

    def _rows(self) -> QuerySet[OutboxEvent]:
        return OutboxEvent.objects.using(self.using)

    def claim(self, limit: int, lease: float) -> list[OutboxRow]:
        connection = connections[self.using]
        if connection.errors_occurred:
            # The relay thread has no request cycle to drop a broken connection for it.
            connection.close_if_unusable_or_obsolete()
        now = timezone.now()
        with transaction.atomic(using=self.using):
            rows = self._rows()
            if connection.vendor == "sqlite":
                # SQLite has one writer: take its lock first, so that two relays never both
                # read the same rows as free (a write to no row takes the lock all the same).
                rows.filter(pk=0).update(leased_until=None)
            # PostgreSQL: concurrent claims lock disjoint rows and do not wait on each other.
            taken = list(
                rows.filter(done__isnull=True)
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", "envelope")[:limit]
            )
            ids = [row_id for row_id, _ in taken]
            if not ids or self._busy(ids, now):
                return []
            rows.filter(id__in=ids).update(leased_until=now + timedelta(seconds=lease))
        return [OutboxRow(row_id, json.loads(text)) for row_id, text in taken]

    def _busy(self, ids: list[int], now: datetime) -> bool:
        """Whether another relay holds rows before or among `ids` (locked, so skipped), or a
        live lease: order comes first."""
        waiting = self._rows().filter(done__isnull=True)
        skipped = waiting.filter(id__lte=ids[-1]).exclude(id__in=ids)
        return skipped.exists() or waiting.filter(leased_until__gt=now).exists()

    def settle(self, rows: Sequence[OutboxRow], error: str = "") -> None:
        self._rows().filter(id__in=[row.id for row in rows]).update(
            done=timezone.now(), leased_until=None, error=error
        )

    def release(self, rows: Sequence[OutboxRow]) -> None:
        if rows:
            self._rows().filter(id__in=[row.id for row in rows], done__isnull=True).update(
                leased_until=None
            )

    def lag(self) -> float | None:
        # The first waiting row by id is the oldest, and the partial index finds it at once.
        waiting = self._rows().filter(done__isnull=True).order_by("id")
        oldest = waiting.values_list("created", flat=True).first()
        return None if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())

    def waiting(self) -> int:
        return self._rows().filter(done__isnull=True).count()

    def prune(self, older_than: float) -> int:
        cutoff = timezone.now() - timedelta(seconds=older_than)
        deleted, _ = self._rows().filter(done__lt=cutoff).delete()
        return deleted


def write(envelope: Envelope, using: str | None = None) -> None:
    """Add `envelope` to the outbox in the current transaction of `using` (the change's)."""
    alias = using or DEFAULT_DB_ALIAS
    OutboxEvent.objects.using(alias).create(
        name=envelope["name"],
        event_id=envelope["meta"]["id"],
        envelope=json.dumps(envelope, separators=(",", ":"), allow_nan=False),
    )
    transaction.on_commit(lambda: wake(alias), using=alias, robust=True)


_relays = ProcessRelays()


def relay_for(using: str = DEFAULT_DB_ALIAS) -> Relay:
    """A relay for the outbox of database `using`, made from the current settings."""
    app = get_settings()
    return Relay(
        DjangoOutboxStore(using),
        make_transport(app.core),
        app.outbox,
        batch_size=app.core.batch_size,
        retry_max_delay=app.core.retry_max_delay,
    )


def start_relays() -> None:
    """Start this process's relay threads, one per OUTBOX_DATABASES entry (once)."""
    outbox = get_settings().outbox
    if outbox.enabled and outbox.relay:
        for alias in outbox_databases():
            _relays.start_once(alias, partial(relay_for, alias))


def wake(using: str) -> None:
    """Rows were committed to `using`'s outbox: have this process's relay look now, if it
    runs one (web processes do, from their first request; commands and scripts do not)."""
    _relays.wake(using)


def stop_relays(timeout: float = 10.0) -> None:
    """Stop this process's relays: the batch in hand is settled first (at exit too)."""
    _relays.stop(timeout)


def lag(using: str = DEFAULT_DB_ALIAS) -> float | None:
    """Seconds the oldest undelivered event of `using`'s outbox has waited (None: none waits)."""
    return DjangoOutboxStore(using).lag()
