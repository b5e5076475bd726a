"""The Flask demo in a real browser: headless Chromium, a real Flask server, a real gateway.

Changes made through SQLAlchemy and through the demo's forms show on the change tracker page
(on its own and beside the forms in the editor), and so does one committed while the page
rendered; every page says it is connected.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template
from flask_demo import create_app
from flask_demo.models import MyModel, db
from flask_processes import flask_telegraphy_run
from flask_support import SECRET
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from gateway_command import free_port
from telegraphy.contrib.flask_telegraphy import get_state
from telegraphy.core import Publisher

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser"))
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "_static"
WAIT_MS = 10_000  # the bounded wait for anything to appear on a page


@pytest.fixture(autouse=True, scope="module")
def chromium_is_installed() -> None:
    """A missing browser fails the run and says what to install; it never skips."""
    assert CHROMIUM, "the browser tests need Chromium: apt-get install chromium"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The demo app served by Werkzeug in a thread, and `flask telegraphy run` beside it."""
    port = free_port()
    with flask_telegraphy_run(port, tmp_path, {"TELEGRAPHY_SECRET": SECRET}) as gateway:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                "TELEGRAPHY_SECRET": SECRET,
                "TELEGRAPHY_GATEWAY_URL": f"http://127.0.0.1:{port}",
                # The gateway shares this host's clock: what it accepted before a request
                # started is not replayed to that request's page.
                "TELEGRAPHY_RENDER_GAP_MARGIN": 0,
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{server.port}"
            delivered(app)
        finally:
            server.shutdown()
            server.server_close()
            get_state(app).close()
            with app.app_context():
                db.engine.dispose()
    assert "Traceback" not in gateway.output, gateway.output


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def delivered(app: Flask) -> None:
    publisher = get_state(app).sender()
    assert isinstance(publisher, Publisher) and publisher.flush(10)


def wait_for_changes(page: Any, expected: list[str]) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#changes li').length >= n",
        arg=len(expected),
        timeout=WAIT_MS,
    )
    assert page.locator("#changes li").all_inner_texts() == expected


def test_sqlalchemy_and_form_changes_show_live_on_the_change_tracker(
    demo: tuple[Flask, str], browser: Any
) -> None:
    app, base = demo
    tracker = browser.new_page()
    tracker.goto(f"{base}/demo/change_tracker/")
    tracker.wait_for_selector("html[data-live=yes]", timeout=WAIT_MS)

    with app.app_context():
        thing = MyModel(title="from SQLAlchemy", count=1)
        db.session.add(thing)
        db.session.commit()
        thing.title = "renamed in SQLAlchemy"
        db.session.commit()
        db.session.delete(thing)
        db.session.commit()
    wait_for_changes(
        tracker,
        ["create from SQLAlchemy", "update renamed in SQLAlchemy", "delete renamed in SQLAlchemy"],
    )

    forms = browser.new_page()
    forms.goto(f"{base}/demo/models/")
    forms.fill("#create input[name=title]", "from the form")
    forms.fill("#create input[name=count]", "5")
    forms.click("#create button")
    row = forms.locator("tr[data-id]").last
    created = row.get_attribute("data-id")
    row.locator("form.update input[name=title]").fill("edited in the form")
    row.locator("form.update button").click()
    forms.locator(f'tr[data-id="{created}"] form.delete button').click()
    forms.wait_for_selector(f'tr[data-id="{created}"]', state="detached", timeout=WAIT_MS)
    wait_for_changes(
        tracker,
        [
            "create from SQLAlchemy",
            "update renamed in SQLAlchemy",
            "delete renamed in SQLAlchemy",
            "create from the form",
            "update edited in the form",
            "delete edited in the form",
        ],
    )
    assert tracker.locator(f'#objects tr[data-id="{created}"]').count() == 0


def test_an_event_committed_while_the_page_rendered_still_reaches_it(
    demo: tuple[Flask, str], browser: Any
) -> None:
    app, base = demo

    @app.get("/demo/render_gap/")
    def change_tracker_with_a_change_while_rendering() -> str:
        # The gateway accepts this event after the page's data was read and before the page
        # can subscribe: only the render-gap recovery brings it to the page.
        objects = list(db.session.scalars(db.select(MyModel).order_by(MyModel.id)))
        db.session.add(MyModel(title="while rendering", count=1))
        db.session.commit()
        delivered(app)
        return render_template("change_tracker.html", objects=objects)

    with app.app_context():
        db.session.add(MyModel(title="before the request", count=0))
        db.session.commit()
    delivered(app)
    time.sleep(0.05)

    page = browser.new_page()
    page.goto(f"{base}/demo/render_gap/")
    page.wait_for_selector("html[data-live=yes]", timeout=WAIT_MS)
    wait_for_changes(page, ["create while rendering"])
    assert page.locator("#objects tr").count() == 2  # the row read, and the one replayed


def test_every_page_says_it_is_connected(demo: tuple[Flask, str], browser: Any) -> None:
    _, base = demo
    page = browser.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    for where in ("/", "/demo/change_tracker/"):
        page.goto(f"{base}{where}")
        page.wait_for_selector("html[data-connection=open]", timeout=WAIT_MS)
        assert page.inner_text("#status") == "● connected", where
    assert errors == []  # every page's script ran through


def test_the_editor_changes_what_its_live_side_shows(demo: tuple[Flask, str], browser: Any) -> None:
    _, base = demo
    page = browser.new_page(viewport={"width": 1280, "height": 760})
    page.goto(f"{base}/demo/editor/")
    live = page.frame_locator("#live")
    editor = page.frame_locator("#editor")
    live.locator("html[data-live=yes]").wait_for(timeout=WAIT_MS)

    editor.locator("#create input[name=title]").fill("Write the changelog")
    editor.locator("#create button").click()
    changes = live.locator("#changes li")
    changes.first.wait_for(timeout=WAIT_MS)
    row = editor.locator("tr[data-id]").last
    row.locator("form.update input[name=count]").fill("2")
    row.locator("form.update button").click()
    changes.nth(1).wait_for(timeout=WAIT_MS)
    cells = live.locator("#objects tr").last.locator("td").all_inner_texts()
    assert cells[1:] == ["Write the changelog", "2"]
    assert live.locator("#status").inner_text() == "● connected"
    page.screenshot(path=SCREENSHOTS / "demo-flask-editor.png")  # shown in docs/flask.rst
    editor.locator("tr[data-id] form.delete button").last.click()
    changes.nth(2).wait_for(timeout=WAIT_MS)
    assert changes.all_inner_texts() == [
        "create Write the changelog",
        "update Write the changelog",
        "delete Write the changelog",
    ]
    assert live.locator("#objects tr").count() == 0
    assert live.locator("#status").inner_text() == "● connected"
