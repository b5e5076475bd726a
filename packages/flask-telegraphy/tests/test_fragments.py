"""Server-rendered fragments in Flask: a model event renders its Jinja template once per
audience as the session flushes, escaped, and sends it with the event once it commits; the
Jinja helpers write the marks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template, render_template_string
from flask_models import Note
from jinja2 import DictLoader
from sqlalchemy.orm import Session, sessionmaker

from telegraphy.contrib.flask_telegraphy import BaseEventModel, capture_events
from telegraphy.contrib.flask_telegraphy._tokens import grants
from telegraphy.core import AUDIENCE_PUBLIC, AUDIENCE_STAFF, ConfigurationError

PAGE = Path(__file__).resolve().parents[3] / "docs" / "fragments.rst"
ROW = (
    "<tr {{ telegraphy_object(note) }}><td>{{ note.title }}</td>"
    '{% if audience == "staff" %}<td>{{ note.body }}</td>{% endif %}</tr>'
)


class NoteRows(BaseEventModel):
    model = Note
    fragment_template = "note_row.html"
    fragment_audiences = (AUDIENCE_PUBLIC, AUDIENCE_STAFF)


class User:
    is_authenticated = True

    def __init__(self, pk: int, is_staff: bool) -> None:
        self.id, self.is_staff = pk, is_staff


@pytest.fixture
def rows_app(app: Flask) -> Flask:
    app.jinja_env.loader = DictLoader({"note_row.html": ROW})
    NoteRows().register()
    return app


def test_each_change_is_rendered_per_audience_escaped_and_sent_on_commit(
    rows_app: Flask, sessions: sessionmaker[Session]
) -> None:
    with rows_app.app_context(), capture_events() as sent, sessions() as session:
        note = Note(title="<b>first</b>", body="staff only")
        session.add(note)
        session.flush()
        assert sent == []
        session.commit()
        public, staff = sent
        assert public["meta"]["fragment"] == {
            "object": str(note.id),
            "audience": "public",
            "html": f'<tr data-telegraphy-object="{note.id}">'
            "<td>&lt;b&gt;first&lt;/b&gt;</td></tr>",
        }
        assert "<td>staff only</td>" in staff["meta"]["fragment"]["html"]
        assert staff["meta"]["id"] == public["meta"]["id"] + "-staff"

        session.delete(note)
        session.commit()
        assert [e["meta"]["fragment"] for e in sent[2:]] == [
            {"object": str(note.id), "audience": "public"},
            {"object": str(note.id), "audience": "staff"},
        ]


def test_tokens_keep_each_user_to_their_audience(rows_app: Flask) -> None:
    with rows_app.app_context():
        assert grants(User(1, False)).filters == {
            "flask_models.Note": {"meta__fragment__audience__exact": "public"}
        }
        assert grants(User(2, True)).filters == {
            "flask_models.Note": {"meta__fragment__audience__exact": "staff"}
        }


def test_a_public_event_cannot_have_a_staff_rendering() -> None:
    class PublicStaff(BaseEventModel):
        model = Note
        public = True
        fragment_template = "note_row.html"
        fragment_audiences = (AUDIENCE_PUBLIC, AUDIENCE_STAFF)

    with pytest.raises(ConfigurationError, match="set public = False"):
        PublicStaff()


def test_the_jinja_helpers_write_the_marks_escaped(app: Flask) -> None:
    def render(text: str, **context: Any) -> str:
        with app.test_request_context():
            return render_template_string(text, **context)

    assert render('{{ telegraphy_fragments("shop.Order", "prepend") }}') == (
        'data-telegraphy-fragment="shop.Order" data-telegraphy-action="prepend"'
    )
    assert render("{{ telegraphy_object(note) }}", note=Note(id=5)) == 'data-telegraphy-object="5"'
    assert render("{{ telegraphy_object('\"><x') }}") == (
        'data-telegraphy-object="&quot;&gt;&lt;x"'
    )
    with pytest.raises(ValueError, match="unknown fragment action"):
        render('{{ telegraphy_fragments("shop.Order", "swap") }}')


def test_the_pages_jinja_example_renders(app: Flask) -> None:
    lines = PAGE.read_text().splitlines()
    start = lines.index(".. code-block:: html+jinja") + 2
    example = "\n".join(line[3:] for line in lines[start : start + 3])
    row = "<tr {{ telegraphy_object(order) }}></tr>"
    app.jinja_env.loader = DictLoader({"page.html": example, "order_row.html": row})
    with app.test_request_context():
        html = render_template("page.html", orders=[Note(id=1), Note(id=2)])
    assert " ".join(html.split()) == (
        '<tbody data-telegraphy-fragment="shop.Order" data-telegraphy-action="append"> '
        '<tr data-telegraphy-object="1"></tr><tr data-telegraphy-object="2"></tr> </tbody>'
    )
