"""Bulk operations that send model events: `EventQuerySet` and `EventManager`, for models whose
event definition sets `bulk` (BULK_ROWS or BULK_BATCH). docs/bulk.rst tells the whole story.

Django sends no signal for bulk_create, bulk_update or QuerySet.update(): this queryset finds
the rows itself and sends their events in the operation's transaction. QuerySet.delete() sends
post_delete for each row already (the model events listen to it); with BULK_BATCH those rows
are collected here and sent as batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from django.db import connections, models, transaction

from telegraphy.core import BULK_BATCH as BULK_BATCH
from telegraphy.core import BULK_ROWS as BULK_ROWS
from telegraphy.core import Event, batched, bulk_events

from .conf import get_settings
from .events import OP_CREATE, OP_UPDATE, BaseEventModel, registry, send_after_commit

_M = TypeVar("_M", bound=models.Model)

# While a QuerySet.delete() runs: the events of batch definitions' rows, by definition.
_deleting: ContextVar[dict[BaseEventModel, list[Event]] | None] = ContextVar(
    "telegraphy_deleting", default=None
)
# Inside one of these operations: Django's bulk_update() runs update() itself, for one.
_inside: ContextVar[bool] = ContextVar("telegraphy_bulk", default=False)


class EventQuerySet(models.QuerySet[_M]):
    """A queryset whose bulk operations send the model's events (when its definition opts in)."""

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        definitions = _bulk_definitions(self.model, OP_CREATE)
        if not definitions:
            return super().bulk_create(objs, *args, **kwargs)
        using = self._writing()
        with transaction.atomic(using=using, savepoint=False):
            with _operation():
                created = super().bulk_create(objs, *args, **kwargs)
            # Without a primary key (ignore_conflicts), a row may not have been inserted at all.
            _send(definitions, [o for o in created if o.pk is not None], OP_CREATE, using)
        return created

    def bulk_update(
        self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        definitions = _bulk_definitions(self.model, OP_UPDATE)
        if not definitions:
            return super().bulk_update(objs, fields, batch_size)
        objs = list(objs)
        using = self._writing()
        with transaction.atomic(using=using, savepoint=False):
            with _operation():
                count = super().bulk_update(objs, fields, batch_size)
            _send(definitions, objs, OP_UPDATE, using)
        return count

    def update(self, **kwargs: Any) -> int:
        definitions = _bulk_definitions(self.model, OP_UPDATE)
        if not definitions or self.query.is_sliced:  # Django refuses a sliced update itself
            return super().update(**kwargs)
        using = self._writing()
        # Django's UPDATE returns a count, not rows: select (and lock) them first, read them after.
        with transaction.atomic(using=using, savepoint=False):
            pks = list(_locked(self.using(using)).order_by("pk").values_list("pk", flat=True))
            with _operation():
                count = super().update(**kwargs)
            rows = self.model._base_manager.using(using).in_bulk(pks)
            _send(definitions, [rows[pk] for pk in pks if pk in rows], OP_UPDATE, using)
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        using = self._writing()
        with transaction.atomic(using=using, savepoint=False), _collecting() as collected:
            deleted = super().delete()
            for definition, events in collected.items():
                for event in batched(definition, events):
                    send_after_commit(event.envelope(), using)
        return deleted

    def _writing(self) -> str:
        self._for_write = True
        return self.db


class EventManager(models.Manager[_M]):
    """A manager whose querysets are `EventQuerySet`s: `objects = EventManager()`."""

    _queryset_class = EventQuerySet  # what Django's get_queryset() makes, hints and all

    def get_queryset(self) -> EventQuerySet[_M]:
        return cast("EventQuerySet[_M]", super().get_queryset())


def collected(definition: BaseEventModel, event: Event) -> bool:
    """Keep `event` for a batch if a QuerySet.delete() is collecting its definition's rows."""
    deleting = _deleting.get()
    if deleting is None or definition.bulk != BULK_BATCH:
        return False
    deleting.setdefault(definition, []).append(event)
    return True


@contextmanager
def _operation() -> Iterator[None]:
    token = _inside.set(True)
    try:
        yield
    finally:
        _inside.reset(token)


@contextmanager
def _collecting() -> Iterator[dict[BaseEventModel, list[Event]]]:
    collected: dict[BaseEventModel, list[Event]] = {}
    token = _deleting.set(collected)
    try:
        yield collected
    finally:
        _deleting.reset(token)


def _bulk_definitions(model: type[models.Model], operation: str) -> list[BaseEventModel]:
    if _inside.get() or not get_settings().enabled:
        return []
    return [
        d
        for d in registry.registered_events()
        if isinstance(d, BaseEventModel)
        and d.model is model
        and d.bulk is not None
        and operation in (d.operations or ())
    ]


def _send(
    definitions: list[BaseEventModel], instances: list[_M], operation: str, using: str
) -> None:
    for definition in definitions:
        for event in bulk_events(definition, instances, operation):
            send_after_commit(event.envelope(), using)


def _locked(queryset: models.QuerySet[_M]) -> models.QuerySet[_M]:
    """`queryset` with its rows locked where the database can (PostgreSQL: FOR UPDATE OF)."""
    features = connections[queryset.db].features
    if not features.has_select_for_update:
        return queryset  # SQLite: the transaction's write lock keeps others out
    if features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()
