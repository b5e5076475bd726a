"""The outbox in one process, on SQLite: rows are written in the session's transaction (and
vanish with its rollback), the relay delivers and settles them in order; the commands, the
settings and the metric. Real processes and PostgreSQL: test_outbox_processes.py."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask_models import Note
from flask_support import make_app
from outbox_harness import RecordingGateway, python_blocks
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from telegraphy.contrib.flask_telegraphy import (
    BaseEventModel,
    Telegraphy,
    capture_events,
    outbox_metadata,
    outbox_table,
    send_event,
)
from telegraphy.contrib.flask_telegraphy import _outbox as outbox
from telegraphy.core import (
    ConfigurationError,
    Envelope,
    Event,
    OutboxSettings,
    Relay,
    validate_envelope,
)

Sessions = sessionmaker[Session]


class NoteEvents(BaseEventModel):
    model = Note


@pytest.fixture
def engine(sessions: Sessions) -> Engine:
    bind = sessions.kw["bind"]
    outbox_metadata.create_all(bind)
    return bind  # type: ignore[no-any-return]


@pytest.fixture
def app(engine: Engine) -> Iterator[Flask]:
    NoteEvents().register()
    yield make_app(
        TELEGRAPHY_OUTBOX=True, TELEGRAPHY_OUTBOX_RELAY=False, TELEGRAPHY_OUTBOX_DATABASE=engine
    )
    outbox.stop_relays()


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(outbox_table).order_by(outbox_table.c.id)))


def titles(envelopes: Sequence[Envelope]) -> list[tuple[str, Any]]:
    return [(e["meta"]["event_type"], e["data"].get("title")) for e in envelopes]


def relay(engine: Engine, gateway: RecordingGateway) -> Relay:
    store = outbox.SQLAlchemyOutboxStore(engine)
    return Relay(store, gateway, OutboxSettings(enabled=True), batch_size=2)


def test_rows_are_written_as_the_session_flushes_and_vanish_with_its_rollback(
    app: Flask, sessions: Sessions, engine: Engine
) -> None:
    with app.app_context(), sessions() as session:
        note = Note(title="a")
        session.add(note)
        session.flush()
        assert len(rows(engine)) == 0  # written, but not committed: invisible elsewhere
        savepoint = session.begin_nested()
        session.add(Note(title="inner, rolled back"))
        session.flush()
        savepoint.rollback()
        note.title = "b"
        session.commit()
        session.add(Note(title="rolled back"))
        send_event(Event("ops.Audit", {"title": "rolled back too"}), session)
        session.flush()
        session.rollback()
    written = rows(engine)
    envelopes = [json.loads(row.envelope) for row in written]
    assert titles(envelopes) == [("create", "a"), ("update", "b")]
    assert [row.event_id for row in written] == [e["meta"]["id"] for e in envelopes]
    assert all(row.done is None for row in written)
    for envelope in envelopes:
        validate_envelope(envelope)


def test_the_relay_delivers_in_order_and_settles_what_it_delivered(
    app: Flask, sessions: Sessions, engine: Engine
) -> None:
    with app.app_context():
        with sessions() as session:
            session.add_all([Note(title=f"t{n}") for n in range(5)])
            session.commit()
        send_event(Event("ops.Audit", {"title": "no session"}))
    gateway = RecordingGateway()
    assert relay(engine, gateway).drain() == 6
    assert titles(gateway.envelopes) == [
        *[("create", f"t{n}") for n in range(5)],
        ("custom", "no session"),
    ]
    assert all(row.done is not None for row in rows(engine))
    assert outbox.SQLAlchemyOutboxStore(engine).lag() is None


def test_a_refused_event_stays_in_the_table_with_the_gateways_reason(
    app: Flask, sessions: Sessions, engine: Engine
) -> None:
    with app.app_context(), sessions() as session:
        session.add_all([Note(title=title) for title in ("ok", "bad", "fine")])
        session.commit()
    gateway = RecordingGateway()
    gateway.refuse.add("bad")
    relay(engine, gateway).drain()
    assert titles(gateway.envelopes) == [("create", "ok"), ("create", "fine")]
    assert [row.error for row in rows(engine)] == ["", "refused", ""]


def test_a_live_lease_keeps_a_second_relay_off_until_it_ends(
    app: Flask, sessions: Sessions, engine: Engine
) -> None:
    with app.app_context(), sessions() as session:
        session.add(Note(title="a"))
        session.commit()
    store = outbox.SQLAlchemyOutboxStore(engine)
    (row,) = store.claim(10, lease=60)
    assert store.claim(10, lease=60) == []
    store.release([row])
    assert [r.id for r in store.claim(10, lease=60)] == [row.id]


def test_capture_events_still_records_and_writes_nothing(
    app: Flask, sessions: Sessions, engine: Engine
) -> None:
    with app.app_context(), capture_events() as sent, sessions() as session:
        session.add(Note(title="captured"))
        session.commit()
    assert titles(sent) == [("create", "captured")]
    assert rows(engine) == []


def test_the_commands_report_prune_and_deliver(
    app: Flask, sessions: Sessions, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = app.test_cli_runner()
    assert "outbox table ready" in runner.invoke(args=["telegraphy", "create-outbox"]).output
    with app.app_context(), sessions() as session:
        session.add(Note(title="waiting"))
        session.commit()
    status = runner.invoke(args=["telegraphy", "relay", "--status"]).output
    assert "outbox: 1 event(s) waiting, the oldest has waited" in status
    gateway = RecordingGateway()
    monkeypatch.setattr(outbox, "make_transport", lambda core: gateway)
    done = runner.invoke(args=["telegraphy", "relay", "--until-empty"])
    assert "1 event(s) delivered, 0 refused" in done.output, done.output
    assert titles(gateway.envelopes) == [("create", "waiting")]
    with engine.begin() as connection:
        connection.execute(
            update(outbox_table).values(done=rows(engine)[0].created.replace(year=2000))
        )
    pruned = runner.invoke(args=["telegraphy", "relay", "--prune"]).output
    assert "1 delivered row(s) deleted" in pruned


def test_the_first_request_starts_the_relay_thread(engine: Engine) -> None:
    app = make_app(TELEGRAPHY_OUTBOX=True, TELEGRAPHY_OUTBOX_DATABASE=engine)
    app.test_client().get("/telegraphy/token")
    state = app.extensions["telegraphy"]
    assert outbox.is_running(state)
    outbox.stop_relays()
    assert not outbox.is_running(state)


def test_bad_outbox_settings_say_what_to_fix() -> None:
    with pytest.raises(ConfigurationError, match="TELEGRAPHY_OUTBOX_LEASE must be a positive"):
        make_app(TELEGRAPHY_OUTBOX_LEASE=0)
    app = make_app(TELEGRAPHY_OUTBOX=True)
    with pytest.raises(ConfigurationError, match="set TELEGRAPHY_OUTBOX_DATABASE"):
        outbox.engine_for(app)


def test_the_lag_metric_reads_the_oldest_waiting_row(
    app: Flask, sessions: Sessions, engine: Engine
) -> None:
    registry = CollectorRegistry()
    assert outbox.register_metric(app, registry)
    assert registry.get_sample_value("telegraphy_outbox_lag_seconds") == 0.0
    with app.app_context(), sessions() as session:
        session.add(Note(title="late"))
        session.commit()
    with engine.begin() as connection:
        old = rows(engine)[0].created.replace(year=2000)
        connection.execute(update(outbox_table).values(created=old))
    assert registry.get_sample_value("telegraphy_outbox_lag_seconds") > 3600


def test_the_docs_config_and_alembic_lines_work(engine: Engine) -> None:
    config, alembic = [b for b in python_blocks() if "app.config" in b or "Alembic" in b]
    app = Flask("docs")
    exec(config, {"app": app})
    app.config["TELEGRAPHY_OUTBOX_DATABASE"] = engine
    Telegraphy(app)
    assert app.extensions["telegraphy"].settings.outbox == OutboxSettings(enabled=True)
    namespace: dict[str, Any] = {"db": SimpleNamespace(metadata=Note.metadata)}
    exec(alembic, namespace)
    assert namespace["target_metadata"] == [Note.metadata, outbox_metadata]
