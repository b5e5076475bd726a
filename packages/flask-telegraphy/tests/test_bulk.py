"""ORM INSERT, UPDATE and DELETE statements send model events, per row or in batches, once the
session commits: on SQLite and on a real PostgreSQL server (where the rows an UPDATE or DELETE
will change are locked as they are selected). flask_shop.py is the shop docs/bulk.rst shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import outbox_harness
import pytest
from flask import Flask
from flask_shop import Base, Line, LineEvents, Order, OrderEvents
from sqlalchemy import Engine, bindparam, create_engine, delete, insert, select, update
from sqlalchemy.orm import Session

from telegraphy.contrib.flask_telegraphy import EventRecorder, capture_events
from telegraphy.core import Envelope, validate_envelope

postgres = outbox_harness.postgres_fixture


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    where = outbox_harness.database(request, tmp_path)
    url = where.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url if url.startswith("postgresql") else f"sqlite:///{where}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    OrderEvents().register()
    LineEvents().register()
    with Session(engine) as session:
        yield session


@contextmanager
def sending(app: Flask) -> Iterator[EventRecorder]:
    """What the app's sessions send. Entered in the test itself: under pytest-twisted a
    fixture's context variables (Flask's app context) are not the test's."""
    with app.app_context(), capture_events() as recorder:
        yield recorder


def rows(sent: list[Envelope]) -> list[tuple[str, str, Any]]:
    for envelope in sent:
        validate_envelope(envelope)
    return [(e["name"], e["meta"]["event_type"], e["data"].get("customer")) for e in sent]


def orders(session: Session, *customers: str) -> list[int]:
    """Orders made by an ORM bulk INSERT, committed; their ids."""
    made = session.execute(insert(Order).returning(Order.id), [{"customer": c} for c in customers])
    ids = [row.id for row in made]
    session.commit()
    return ids


def test_an_insert_sends_a_create_per_row_and_still_returns_what_was_asked(
    app: Flask, session: Session
) -> None:
    with sending(app) as sent:
        ids = orders(session, "ann", "bob")
        assert rows(sent) == [("shop.Order", "create", "ann"), ("shop.Order", "create", "bob")]
        assert [e["data"]["id"] for e in sent] == ids
        assert sent[0]["data"] == {
            "id": ids[0],
            "customer": "ann",
            "status": "new",
            "total": "0.00",
        }
        sent.clear()
        # Without RETURNING of its own, the statement is given one for the new rows' keys.
        session.execute(insert(Order), [{"customer": "cy"}, {"customer": "dee"}])
        session.commit()
        assert rows(sent) == [("shop.Order", "create", "cy"), ("shop.Order", "create", "dee")]


def test_without_returning_an_insert_sends_nothing_and_says_so(
    app: Flask, session: Session, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine.dialect.insert_executemany_returning = False  # as on SQLite before 3.35
    with sending(app) as sent:
        session.execute(insert(Order), [{"customer": "ann"}, {"customer": "bob"}])
        session.commit()
        assert sent == []
    assert session.scalars(select(Order.customer)).all() == ["ann", "bob"]
    assert "cannot tell which rows an INSERT made (no RETURNING)" in caplog.text


def test_an_update_sends_the_rows_it_changed_as_they_are_after_it(
    app: Flask, session: Session
) -> None:
    with sending(app) as sent:
        ann, bob, _ = orders(session, "ann", "bob", "cy")
        session.execute(update(Order).where(Order.id == bob).values(status="paid"))
        session.commit()
        sent.clear()
        # The criteria no longer match the rows once updated: they were selected before.
        statement = (
            update(Order)
            .where(Order.status == "new", Order.customer != "cy")
            .values(status="shipped", total=Decimal("9.50"))
        )
        assert session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
        assert sent == []  # not before the commit
        session.commit()
        assert rows(sent) == [("shop.Order", "update", "ann")]
        assert sent[0]["data"] == {
            "id": ann,
            "customer": "ann",
            "status": "shipped",
            "total": "9.50",
        }


def test_an_update_by_primary_key_sends_the_rows_it_names(app: Flask, session: Session) -> None:
    with sending(app) as sent:
        ann, bob = orders(session, "ann", "bob")
        sent.clear()
        session.execute(
            update(Order), [{"id": ann, "status": "paid"}, {"id": bob, "status": "late"}]
        )
        session.commit()
        assert [(e["data"]["id"], e["data"]["status"]) for e in sent] == [
            (ann, "paid"),
            (bob, "late"),
        ]


def test_an_update_with_criteria_and_parameter_sets_sends_the_rows_each_set_matched(
    app: Flask, session: Session
) -> None:
    with sending(app) as sent:
        orders(session, "ann", "bob", "cy")
        sent.clear()
        # The criteria run once per parameter set (not the ORM's UPDATE by primary key).
        statement = (
            update(Order)
            .where(Order.customer == bindparam("who"))
            .values(status=bindparam("new_status"))
            .execution_options(dml_strategy="core_only")
        )
        session.execute(
            statement, [{"who": "ann", "new_status": "paid"}, {"who": "cy", "new_status": "late"}]
        )
        session.commit()
        assert [(e["data"]["customer"], e["data"]["status"]) for e in sent] == [
            ("ann", "paid"),
            ("cy", "late"),
        ]


def test_deletes_send_the_rows_as_they_were_and_batches_carry_batch_size_rows(
    app: Flask, session: Session
) -> None:
    with sending(app) as sent:
        ann, bob = orders(session, "ann", "bob")
        lines = [{"order_id": ann, "product": f"p{n}"} for n in range(250)]
        session.execute(insert(Line), lines)
        session.commit()
        assert [(e["name"], e["meta"].get("batch")) for e in sent[2:]] == [
            ("shop.Line", 100)
        ] * 2 + [("shop.Line", 50)]
        sent.clear()
        session.execute(delete(Line).where(Line.order_id == ann))
        session.execute(delete(Order).where(Order.customer == "ann"))
        session.commit()
        assert [(e["name"], e["meta"]["event_type"], e["meta"].get("batch")) for e in sent] == [
            ("shop.Line", "delete", 100),
            ("shop.Line", "delete", 100),
            ("shop.Line", "delete", 50),
            ("shop.Order", "delete", None),
        ]
        assert sent[3]["data"] == {"id": ann, "customer": "ann", "status": "new", "total": "0.00"}
        assert session.scalars(select(Order.id)).all() == [bob]


def test_a_rollback_sends_nothing(app: Flask, session: Session) -> None:
    with sending(app) as sent:
        orders(session, "ann")
        sent.clear()
        session.execute(update(Order).values(status="gone"))
        session.execute(delete(Order))
        session.rollback()
        assert sent == []


def test_core_statements_and_definitions_without_bulk_send_nothing(
    app: Flask, session: Session
) -> None:
    with sending(app) as sent:
        OrderEvents().unregister()
        orders(session, "ann")
        session.execute(update(Order).values(status="paid"))
        session.commit()
        # A Core statement on the table, not the mapped class: no mapper, no model events.
        LineEvents().register()
        session.execute(insert(Line.__table__), [{"order_id": 1, "product": "x"}])
        session.commit()
        assert sent == []
