"""ORM-enabled INSERT, UPDATE and DELETE statements that send model events, for models whose
event definition sets `bulk` (docs/bulk.rst): the sessions' `do_orm_execute` hook.

An UPDATE or DELETE tells how many rows it changed, not which: the rows are selected first,
with the statement's criteria (locked FOR UPDATE where the database has it), an UPDATE's read
again after it. An INSERT's new rows are found with RETURNING. The events wait for the commit
as the flush's do (`_session.defer`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Result, event, select, tuple_
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from telegraphy.core import Event, bulk_events

from . import _session
from ._state import current_state
from .events import OP_CREATE, OP_DELETE, OP_UPDATE, BaseEventModel, registered_events

logger = logging.getLogger(__name__)

CHUNK = 500
"""Primary keys per SELECT ... WHERE pk IN (...) that reads rows again."""

Key = tuple[Any, ...]


def install() -> None:
    """Listen to every session's ORM statements (called once, by `_session.install`)."""
    event.listen(Session, "do_orm_execute", _executing)


def _executing(execute: ORMExecuteState) -> Result[Any] | None:
    if not (execute.is_insert or execute.is_update or execute.is_delete):
        return None
    mapper = execute.bind_mapper
    if mapper is None:  # a Core statement on a Table
        return None
    operation = OP_CREATE if execute.is_insert else OP_UPDATE if execute.is_update else OP_DELETE
    definitions = _bulk_definitions(mapper, operation)
    state = current_state() if definitions else None
    if state is None or not state.settings.enabled:
        return None
    if execute.is_delete:
        made = _events(definitions, _rows(execute, mapper), operation)
        result = execute.invoke_statement()
    else:
        result, keys = (
            _inserted(execute, mapper) if execute.is_insert else _updated(execute, mapper)
        )
        made = _events(definitions, _load(execute.session, mapper, keys), operation)
    for one in made:
        _session.defer(execute.session, state, one.envelope())
    return result


def _bulk_definitions(mapper: Mapper[Any], operation: str) -> list[BaseEventModel]:
    classes = mapper.class_.__mro__
    return [
        d
        for d in registered_events()
        if isinstance(d, BaseEventModel)
        and d.mapper.class_ in classes
        and d.bulk is not None
        and d.emits(operation)
    ]


def _events(
    definitions: list[BaseEventModel], instances: Sequence[Any], operation: str
) -> list[Event]:
    return [e for d in definitions for e in bulk_events(d, instances, operation)]


def _updated(execute: ORMExecuteState, mapper: Mapper[Any]) -> tuple[Result[Any], list[Key]]:
    keys = _given_keys(execute, mapper) if execute.is_executemany else None
    if keys is None:
        keys = _matched(execute, mapper)
    return execute.invoke_statement(), keys


def _rows(execute: ORMExecuteState, mapper: Mapper[Any]) -> list[Any]:
    keys = _given_keys(execute, mapper) if execute.is_executemany else None
    return _load(execute.session, mapper, _matched(execute, mapper) if keys is None else keys)


def _matched(execute: ORMExecuteState, mapper: Mapper[Any]) -> list[Key]:
    """The primary keys the statement's criteria match, locked: the rows it will change (for
    each parameter set of an executemany)."""
    query = select(*mapper.primary_key).order_by(*mapper.primary_key).with_for_update()
    criteria = getattr(execute.statement, "whereclause", None)
    if criteria is not None:
        query = query.where(criteria)
    given = execute.parameters
    keys: dict[Key, None] = {}  # in order, once each
    for params in given if isinstance(given, list) else [given]:
        for row in execute.session.execute(query, params or None):
            keys[tuple(row)] = None
    return list(keys)


def _given_keys(execute: ORMExecuteState, mapper: Mapper[Any]) -> list[Key] | None:
    """The primary keys an executemany by primary key names (None if it does not)."""
    names = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
    rows = execute.parameters
    if not isinstance(rows, list) or not all(set(names) <= set(row) for row in rows):
        return None
    return [tuple(row[name] for name in names) for row in rows]


def _inserted(execute: ORMExecuteState, mapper: Mapper[Any]) -> tuple[Result[Any], list[Key]]:
    statement: Any = execute.statement
    if statement._returning:  # the application's own RETURNING: read what it returns
        frozen = execute.invoke_statement().freeze()
        return frozen(), _returned_keys(frozen().all(), mapper)
    dialect = execute.session.get_bind(mapper).dialect
    many = execute.is_executemany
    if not (dialect.insert_executemany_returning if many else dialect.insert_returning):
        logger.warning(
            "telegraphy: %s cannot tell which rows an INSERT made (no RETURNING): "
            "no bulk events sent for %s",
            dialect.name,
            mapper.class_.__name__,
        )
        return execute.invoke_statement(), []
    returning = statement.returning(*mapper.primary_key, sort_by_parameter_order=many)
    frozen = execute.invoke_statement(statement=returning).freeze()
    return frozen(), [tuple(row) for row in frozen().all()]


def _returned_keys(rows: Iterable[Any], mapper: Mapper[Any]) -> list[Key]:
    names = [c.key for c in mapper.primary_key]
    keys: list[Key] = []
    for row in rows:
        entity = next((v for v in row if isinstance(v, mapper.class_)), None)
        if entity is not None:
            keys.append(tuple(mapper.primary_key_from_instance(entity)))
        elif all(name in row._mapping for name in names):
            keys.append(tuple(row._mapping[name] for name in names))
    return keys


def _load(session: Session, mapper: Mapper[Any], keys: list[Key]) -> list[Any]:
    """The rows of `keys`, as they are now, in the order of `keys`."""
    columns = mapper.primary_key
    target = columns[0] if len(columns) == 1 else tuple_(*columns)
    found: dict[Key, Any] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        wanted = [k[0] for k in chunk] if len(columns) == 1 else chunk
        query = select(mapper).where(target.in_(wanted)).execution_options(populate_existing=True)
        for instance in session.scalars(query):
            found[tuple(mapper.primary_key_from_instance(instance))] = instance
    return [found[key] for key in keys if key in found]
