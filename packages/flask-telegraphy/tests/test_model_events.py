"""Model events: made as a session flushes, sent only once it commits, never after a rollback."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask_models import Note, Tag
from flask_sqlalchemy import SQLAlchemy
from flask_support import SECRET, make_app
from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from telegraphy.contrib.flask_telegraphy import (
    OP_CREATE,
    OP_DELETE,
    BaseEventModel,
    Telegraphy,
    capture_events,
    registered_events,
)
from telegraphy.core import ConfigurationError, Envelope, Publisher, Settings, validate_envelope

Sessions = sessionmaker[Session]


class NoteEvents(BaseEventModel):
    model = Note


def kinds(sent: Sequence[Envelope]) -> list[tuple[str, Any]]:
    return [(e["meta"]["event_type"], e["data"].get("title")) for e in sent]


def test_create_update_delete_are_sent_after_each_commit_with_the_columns(
    app: Flask, sessions: Sessions
) -> None:
    NoteEvents().register()
    with app.app_context(), capture_events() as sent, sessions() as session:
        note = Note(title="first")
        session.add(note)
        session.flush()
        assert sent == []  # flushed is not committed
        session.commit()
        assert kinds(sent) == [("create", "first")]
        created = sent[0]
        validate_envelope(created)
        assert created["name"] == "flask_models.Note"
        assert created["meta"]["verbose_name"] == "note"
        assert set(created["data"]) == {"id", "title", "body", "price", "created"}
        assert created["data"]["id"] == note.id and created["data"]["price"] == "0.00"
        assert created["data"]["created"]  # the database's default, read back

        note.title = "renamed"
        session.commit()
        assert note.title == "renamed"  # loaded again after the commit...
        note.title = "renamed"  # ...so this is no change: no UPDATE, no event
        session.commit()
        session.delete(note)  # its attributes expired at the commit: read before the flush
        session.commit()
    assert kinds(sent) == [("create", "first"), ("update", "renamed"), ("delete", "renamed")]


def test_nothing_is_sent_for_a_rolled_back_transaction_or_savepoint(
    app: Flask, sessions: Sessions
) -> None:
    NoteEvents().register()
    with app.app_context(), capture_events() as sent, sessions() as session:
        session.add(Note(title="flushed then rolled back"))
        session.flush()
        session.rollback()

        session.add(Note(title="kept"))
        session.flush()
        savepoint = session.begin_nested()
        session.add(Note(title="in a rolled back savepoint"))
        session.flush()
        savepoint.rollback()
        with session.begin_nested():
            session.add(Note(title="in a released savepoint"))
        assert sent == []  # a released savepoint waits for the commit too
        session.commit()

        session.add(Note(title="never committed"))
        session.flush()
        session.close()
    assert kinds(sent) == [("create", "kept"), ("create", "in a released savepoint")]


def test_deletes_the_flush_finds_itself_send_events_too(app: Flask, sessions: Sessions) -> None:
    class TagEvents(BaseEventModel):
        model = Tag
        fields: ClassVar = ["id", "label"]

        def to_dict(self, instance: Any) -> dict[str, Any]:
            return {name: getattr(instance, name) for name in self.columns}

    TagEvents().register()
    with app.app_context(), capture_events() as sent, sessions() as session:
        note = Note(title="tagged", tags=[Tag(label="a"), Tag(label="b"), Tag(label="c")])
        session.add(note)
        session.commit()
        note.tags.remove(note.tags[0])  # an orphan: deleted by the flush (delete-orphan)
        session.commit()
        session.delete(note)  # its tags go with it (cascade), unloaded until now
        session.commit()
    assert [(e["meta"]["event_type"], e["data"]["label"]) for e in sent] == [
        ("create", "a"),
        ("create", "b"),
        ("create", "c"),
        ("delete", "a"),
        ("delete", "b"),
        ("delete", "c"),
    ]


def test_the_class_selects_fields_operations_name_and_verbose_name(
    app: Flask, sessions: Sessions
) -> None:
    class Titles(BaseEventModel):
        model = Note
        name = "notes.titles"
        fields: ClassVar = ["id", "title"]
        operations: ClassVar = [OP_CREATE, OP_DELETE]
        verbose_name = "Note title"

    class Bodies(BaseEventModel):
        model = Note
        exclude: ClassVar = ["price", "created"]

    class Tags(BaseEventModel):
        model = Tag

    for definition in (Titles, Bodies, Tags):
        definition().register()
    assert [d.name for d in registered_events()] == [
        "flask_models.Note",
        "flask_models.Tag",
        "notes.titles",
    ]
    with app.app_context(), capture_events() as sent, sessions() as session:
        note = Note(title="t", body="b")
        session.add_all([note, Tag(label="urgent")])
        session.commit()
        note.body = "changed"
        session.commit()
        note_id = note.id
    by_name = {(e["name"], e["meta"]["event_type"]): e for e in sent}
    assert set(by_name) == {
        ("notes.titles", "create"),
        ("flask_models.Note", "create"),
        ("flask_models.Tag", "create"),
        ("flask_models.Note", "update"),  # Titles does not emit updates
    }
    titles = by_name["notes.titles", "create"]
    assert titles["data"] == {"id": note_id, "title": "t"}
    assert titles["meta"]["verbose_name"] == "Note title"
    assert set(by_name["flask_models.Note", "update"]["data"]) == {"id", "title", "body"}
    assert by_name["flask_models.Tag", "create"]["data"] == {"id": 1, "label": "URGENT"}


def test_mistakes_in_a_definition_are_reported_at_once() -> None:
    class NoModel(BaseEventModel):
        pass

    class NotMapped(BaseEventModel):
        model = dict

    class BadField(BaseEventModel):
        model = Note
        fields: ClassVar = ["title", "colour"]

    class BadOperation(BaseEventModel):
        model = Note
        operations: ClassVar = ["create", "upsert"]

    class SameName(BaseEventModel):
        model = Tag
        name = "flask_models.Note"

    with pytest.raises(ConfigurationError, match=r"NoModel\.model is not set"):
        NoModel()
    with pytest.raises(ConfigurationError, match="must be an SQLAlchemy mapped class"):
        NotMapped()
    with pytest.raises(ConfigurationError, match="Note has no column colour; its columns: id"):
        BadField()
    with pytest.raises(ConfigurationError, match="unknown upsert; use OP_CREATE"):
        BadOperation()
    NoteEvents().register()
    assert NoteEvents().register() is registered_events()[0]  # the same class again: no-op
    with pytest.raises(ConfigurationError, match=r"two definitions are named 'flask_models\.Note'"):
        SameName().register()


def test_disabled_sends_nothing_and_a_broken_event_never_breaks_the_commit(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenTags(BaseEventModel):
        model = Tag

        def to_dict(self, instance: Any) -> dict[str, Any]:
            return {"ratio": float("nan")}  # JSON cannot carry it

    NoteEvents().register()
    BrokenTags().register()
    disabled = make_app(TELEGRAPHY_ENABLED=False)
    with disabled.app_context(), capture_events() as sent, sessions() as session:
        session.add(Note(title="quiet"))
        session.commit()
    assert sent == []

    enabled = make_app()
    with enabled.app_context(), capture_events() as sent, sessions() as session:
        session.add_all([Tag(label="broken"), Note(title="fine")])
        session.commit()
        assert session.query(Tag).count() == 1  # written all the same
    assert kinds(sent) == [("create", "fine")]
    assert "create event 'flask_models.Tag'" in caplog.text
    assert "data.ratio" in caplog.text


def test_flask_sqlalchemy_models_in_requests(tmp_path: Any) -> None:
    db = SQLAlchemy()

    class Item(db.Model):  # type: ignore[name-defined,misc]
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(50))

    class ItemEvents(BaseEventModel):
        model = Item
        name = "shop.Item"

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'items.sqlite3'}")
    db.init_app(app)
    ItemEvents().register()

    @app.post("/items/<title>")
    def create(title: str) -> str:
        db.session.add(Item(title=title))
        db.session.commit()
        return "created"

    @app.post("/items/<title>/fail")
    def fail(title: str) -> str:
        db.session.add(Item(title=title))
        db.session.flush()
        db.session.rollback()
        return "rolled back"

    with app.app_context():
        db.create_all()
    with capture_events(app) as sent:
        client = app.test_client()
        assert client.post("/items/kept").text == "created"
        assert client.post("/items/lost/fail").text == "rolled back"
    assert [(e["name"], e["meta"]["event_type"], e["data"]) for e in sent] == [
        ("shop.Item", "create", {"id": 1, "title": "kept"})
    ]
    assert sent[0]["meta"]["verbose_name"] == "item"


class Gate:
    """A transport that holds every delivery until the test opens it."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.delivered: list[Envelope] = []

    def check(self, envelope: Envelope) -> None:
        pass

    def deliver(self, batch: Sequence[Envelope]) -> None:
        self.open.wait(10)
        self.delivered.extend(batch)

    def close(self) -> None:
        pass


def test_a_commit_never_waits_on_the_gateway(sessions: Sessions) -> None:
    gate = Gate()
    publisher = Publisher(Settings(secret=SECRET), transport=gate)
    app = Flask("gated")
    app.config.update(TELEGRAPHY_SECRET=SECRET)
    Telegraphy(app, sender=publisher)
    NoteEvents().register()
    with app.app_context(), sessions() as session:
        for n in range(20):
            session.add(Note(title=f"note {n}"))
            session.commit()
        # Had a commit waited on delivery, the gate would have timed out into `delivered`.
        assert gate.delivered == []
    gate.open.set()
    assert publisher.flush(10)
    assert [e["data"]["title"] for e in gate.delivered] == [f"note {n}" for n in range(20)]
    publisher.close()
