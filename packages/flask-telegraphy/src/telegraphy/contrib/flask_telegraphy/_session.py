"""SQLAlchemy session hooks: model events made as a session flushes, sent once it commits.

Events wait in `session.info`, in one bucket per transaction (the session's root transaction
or a savepoint). A released savepoint hands its bucket to the enclosing transaction, a
rolled-back one drops it, and the root's bucket is sent when the root commits; a rollback, or
a session closed without committing, drops everything. SQLAlchemy calls `after_commit`
right before `after_transaction_end` of the transaction that committed (savepoints too): that
pair is how a commit is told from a rollback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Mapper, Session, SessionTransaction, object_session, scoped_session

from telegraphy.core import Envelope

from . import _outbox
from ._state import TelegraphyState, current_state
from .events import OP_CREATE, OP_DELETE, OP_UPDATE, model_events

logger = logging.getLogger(__name__)

PENDING = "telegraphy.pending"  # {SessionTransaction: [(state, envelope), ...]}
DELETING = "telegraphy.deleting"  # {id(instance): events}, read before the flush deletes
DELETED = "telegraphy.deleted"  # what the flush deleted, orphans and cascades included
COMMITTED = "telegraphy.committed"

Pending = list[tuple[TelegraphyState, Envelope]]

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Listen to every SQLAlchemy session (Flask-SQLAlchemy's included), once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Mapper, "after_delete", _deleted)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
        from . import _bulk  # ORM INSERT/UPDATE/DELETE statements (it imports this module)

        _bulk.install()
        _installed = True


def defer(
    session: Session | scoped_session[Any], state: TelegraphyState, envelope: Envelope
) -> None:
    """Send `envelope` when `session` commits; now if it is in no transaction."""
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        rest = _outbox.keep(real, [(state, envelope)])
        if rest:
            _hold(real, rest)
    elif _outbox.uses_outbox(state):
        _outbox.send_now(current_app._get_current_object(), state, envelope)  # type: ignore[attr-defined]
    else:
        state.send(envelope)


def _hold(session: Session, items: Pending) -> None:
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None  # a flush, or in_transaction() said so
    _hold_for(session, transaction, items)


def _before_flush(session: Session, context: Any, instances: Any) -> None:
    session.info.pop(DELETING, None)
    session.info.pop(DELETED, None)
    state = _enabled_state()
    if state is not None and session.deleted:
        # Read now: after the flush a deleted row can no longer load what it had not loaded.
        with session.no_autoflush:
            session.info[DELETING] = {
                id(instance): _made(state, [instance], OP_DELETE) for instance in session.deleted
            }


def _deleted(mapper: Mapper[Any], connection: Any, instance: Any) -> None:
    session = object_session(instance)
    if session is not None:
        session.info.setdefault(DELETED, []).append(instance)


def _after_flush(session: Session, context: Any) -> None:
    read: dict[int, Pending] = session.info.pop(DELETING, {})
    deleted: list[Any] = session.info.pop(DELETED, [])
    state = _enabled_state()
    if state is None:
        return
    # Orphans are found by the flush itself: those are read now, from what they had loaded.
    deleting = [
        item
        for instance in deleted
        for item in (
            read[id(instance)] if id(instance) in read else _made(state, [instance], OP_DELETE)
        )
    ]
    # `new` and `dirty` still describe what this flush wrote; ids are assigned already.
    gone = {id(instance) for instance in deleted}
    updated = [
        instance
        for instance in session.dirty
        if id(instance) not in gone and session.is_modified(instance)
    ]
    made = [
        *_made(state, session.new, OP_CREATE),
        *_made(state, updated, OP_UPDATE),
        *deleting,
    ]
    # With the outbox, rows are written now, in the transaction being flushed.
    made = _outbox.keep(session, made)
    if made:
        _hold(session, made)


def _after_commit(session: Session) -> None:
    session.info[COMMITTED] = True


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if not transaction.nested and transaction.parent is not None:
        return  # the flush's own inner transaction: not a commit or rollback of ours
    committed = session.info.pop(COMMITTED, False)
    if transaction.parent is None:
        _outbox.transaction_ended(session, committed)
    bucket = session.info.get(PENDING, {}).pop(transaction, None)
    if not committed or not bucket:
        return
    if transaction.nested and transaction.parent is not None:
        _hold_for(session, transaction.parent, bucket)
        return
    for state, envelope in bucket:
        state.send(envelope)


def _hold_for(session: Session, transaction: SessionTransaction, items: Pending) -> None:
    pending: dict[SessionTransaction, Pending] = session.info.setdefault(PENDING, {})
    pending.setdefault(transaction, []).extend(items)


def _enabled_state() -> TelegraphyState | None:
    state = current_state()
    return state if state is not None and state.settings.enabled else None


def _made(state: TelegraphyState, instances: Iterable[Any], operation: str) -> Pending:
    made: Pending = []
    for instance in instances:
        for definition in model_events(instance):
            if not definition.emits(operation):
                continue
            try:
                envelopes = definition.envelopes(instance, definition.event(instance, operation))
            except Exception:
                # The write matters more than its event: report the event's fault, keep going.
                logger.exception(
                    "telegraphy: %s event %r of %r could not be made, not sent",
                    operation,
                    definition.name,
                    instance,
                )
                continue
            made.extend((state, envelope) for envelope in envelopes)
    return made
