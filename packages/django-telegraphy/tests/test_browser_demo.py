"""The demo in a real browser: headless Chromium, the Django live server, a real gateway.

Model changes made through the ORM, the admin and the editor show on the change tracker page;
every page says it is connected; a user's private notifications reach that user's page and
never another user's, and one sent from the page's form shows on it; signing in starts a
fresh client without a refusal; an event committed while a page rendered still reaches it.
In debug mode the console names a refused subscription and an undefined event. The editor
test saves the screenshot the README and the docs show.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright
import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from gateway_process import run_telegraph
from telegraphy_demo.events import Notification
from telegraphy_demo.models import MyModel

from gateway_command import free_port
from telegraphy.contrib.django_telegraphy.conf import capture_events, get_sender
from telegraphy.contrib.django_telegraphy.events import send_to_user

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "_static"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser"))
WAIT_MS = 10_000  # the bounded wait for anything to appear on a page

pytestmark = pytest.mark.django_db(transaction=True)


def change_tracker_with_a_change_while_rendering(request: HttpRequest) -> HttpResponse:
    """The change tracker, with an event the gateway accepts after the page's data was read
    and before the page can subscribe: only the render-gap recovery brings it to the page."""
    objects = list(MyModel.objects.all())
    MyModel.objects.create(title="while rendering", count=1)
    assert get_sender().flush(10)  # type: ignore[attr-defined]
    return render(request, "telegraphy_demo/change_tracker.html", {"objects": objects})


urlpatterns = [
    path("demo/render_gap/", change_tracker_with_a_change_while_rendering),
    path("", include("django_demo.urls")),
]


@pytest.fixture(autouse=True, scope="module")
def chromium_is_installed() -> None:
    """A missing browser fails the run and says what to install; it never skips."""
    assert CHROMIUM, "the browser tests need Chromium: apt-get install chromium"


@pytest.fixture
def gateway(settings: Any, tmp_path: Path) -> Iterator[int]:
    """run_telegraph from the demo, with the tests' secret; Django's settings point at it."""
    port = free_port()
    env = {"TELEGRAPHY_SECRET": settings.TELEGRAPHY["SECRET"]}
    with run_telegraph(port, tmp_path, env, ("--log-level", "warn")) as process:
        settings.TELEGRAPHY = {**settings.TELEGRAPHY, "GATEWAY_URL": f"http://127.0.0.1:{port}"}
        yield port
        assert get_sender().flush(10)  # type: ignore[attr-defined]  # every event delivered
    assert "Traceback" not in process.output, process.output


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API keeps an event loop in this thread, which Django takes for async
    # code; the ORM calls here are plain synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def open_live(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("html[data-live=yes]", timeout=WAIT_MS)


def open_connected(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("html[data-connection=open]", timeout=WAIT_MS)


def aborts(page: Any) -> list[str]:
    """The ABORT messages the page's WebSockets will receive (WAMP type 3)."""
    received: list[str] = []

    def watch(socket: Any) -> None:
        socket.on("framereceived", lambda frame: frame.startswith("[3,") and received.append(frame))

    page.on("websocket", watch)
    return received


def client_cookie(cookies: list[dict[str, Any]]) -> str:
    values = [c["value"] for c in cookies if c["name"] == "telegraphy_client"]
    assert len(values) == 1, cookies
    return str(values[0])


def changes(page: Any) -> list[str]:
    texts: list[str] = page.locator("#changes li").all_inner_texts()
    return texts


def wait_for_changes(page: Any, expected: list[str]) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#changes li').length >= n",
        arg=len(expected),
        timeout=WAIT_MS,
    )
    assert changes(page) == expected


def test_orm_and_admin_changes_show_live_on_the_change_tracker(
    gateway: int, browser: Any, live_server: Any
) -> None:
    User.objects.create_superuser("admin", password="admin-password")
    tracker = browser.new_page()
    open_live(tracker, f"{live_server.url}/demo/change_tracker/")

    thing = MyModel.objects.create(title="from the ORM", count=1)
    thing.title = "renamed in the ORM"
    thing.save()
    thing.delete()
    wait_for_changes(
        tracker, ["create from the ORM", "update renamed in the ORM", "delete renamed in the ORM"]
    )

    admin = browser.new_page()
    sign_in(admin, live_server.url, "admin", "admin-password")
    admin.goto(f"{live_server.url}/admin/telegraphy_demo/mymodel/add/")
    admin.fill("input[name=title]", "from the admin")
    admin.fill("input[name=count]", "5")
    admin.click("input[name=_save]")
    created = MyModel.objects.get(title="from the admin")
    admin.goto(f"{live_server.url}/admin/telegraphy_demo/mymodel/{created.pk}/change/")
    admin.fill("input[name=title]", "edited in the admin")
    admin.click("input[name=_save]")
    admin.goto(f"{live_server.url}/admin/telegraphy_demo/mymodel/{created.pk}/delete/")
    admin.click("input[type=submit]")
    admin.wait_for_url(f"{live_server.url}/admin/telegraphy_demo/mymodel/")
    wait_for_changes(
        tracker,
        [
            "create from the ORM",
            "update renamed in the ORM",
            "delete renamed in the ORM",
            "create from the admin",
            "update edited in the admin",
            "delete edited in the admin",
        ],
    )
    row = tracker.locator(f'#objects tr[data-id="{created.pk}"]')
    assert row.count() == 0  # deleted rows leave the table


def test_a_user_never_sees_another_users_private_event(
    gateway: int, browser: Any, live_server: Any
) -> None:
    ann = User.objects.create_user("ann", password="ann-password")
    bob = User.objects.create_user("bob", password="bob-password")
    pages = {}
    for user, password in ((ann, "ann-password"), (bob, "bob-password")):
        page = browser.new_context().new_page()
        sign_in(page, live_server.url, user.username, password)
        open_live(page, f"{live_server.url}/demo/notifications/")
        pages[user.username] = page

    send_to_user(bob, Notification(message="for bob only"))
    send_to_user(ann, Notification(message="for ann"))
    # Ann's own event arrives after Bob's was sent: had Bob's reached her, it would be first.
    pages["ann"].wait_for_selector("#notifications li", timeout=WAIT_MS)
    pages["bob"].wait_for_selector("#notifications li", timeout=WAIT_MS)
    assert pages["bob"].locator("#notifications li").all_inner_texts() == ["for bob only"]
    assert pages["ann"].locator("#notifications li").all_inner_texts() == ["for ann"]


def test_an_event_committed_while_the_page_rendered_still_reaches_it(
    gateway: int, browser: Any, live_server: Any, settings: Any
) -> None:
    settings.ROOT_URLCONF = __name__
    # Gateway and web server share this host's clock: no margin, so that what was accepted
    # before the request started is not replayed (with one, it may be: handlers are idempotent).
    settings.TELEGRAPHY = {**settings.TELEGRAPHY, "RENDER_GAP_MARGIN": 0}
    MyModel.objects.create(title="before the request", count=0)
    assert get_sender().flush(10)  # type: ignore[attr-defined]
    time.sleep(0.05)

    page = browser.new_page()
    open_live(page, f"{live_server.url}/demo/render_gap/")
    wait_for_changes(page, ["create while rendering"])
    assert page.locator("#objects tr").count() == 2  # the row read, and the one replayed


def test_every_page_says_it_is_connected(gateway: int, browser: Any, live_server: Any) -> None:
    page = browser.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    for where in ("/", "/demo/simple/", "/accounts/login/", "/demo/change_tracker/"):
        open_connected(page, f"{live_server.url}{where}")
        assert page.inner_text("#status") == "● connected", where
    assert errors == []  # every page's script ran through


def test_signing_in_starts_a_fresh_client_without_a_refusal(
    gateway: int, browser: Any, live_server: Any
) -> None:
    ann = User.objects.create_user("ann", password="ann-password")
    page = browser.new_page()
    refused = aborts(page)
    open_connected(page, f"{live_server.url}/")
    anonymous = page.context.cookies()

    sign_in(page, live_server.url, "ann", "ann-password")
    page.wait_for_selector("html[data-connection=open]", timeout=WAIT_MS)
    open_connected(page, f"{live_server.url}/demo/simple/")  # the same user resumes
    assert refused == []
    # The client id is kept with whom it was given to: "<id> " anonymous, "<id> <pk>" Ann.
    assert client_cookie(anonymous).endswith("%20")
    assert client_cookie(page.context.cookies()).endswith(f"%20{ann.pk}")


def test_a_notification_sent_from_the_form_shows_on_the_page(
    gateway: int, browser: Any, live_server: Any
) -> None:
    User.objects.create_user("ann", password="ann-password")
    page = browser.new_page()
    sign_in(page, live_server.url, "ann", "ann-password")
    open_live(page, f"{live_server.url}/demo/notifications/")
    page.evaluate("window.stayed = true")

    page.fill("#notify input[name=message]", "sent from the form")
    page.click("#notify button")
    page.wait_for_selector("#notifications li", timeout=WAIT_MS)
    assert page.locator("#notifications li").all_inner_texts() == ["sent from the form"]
    assert page.evaluate("window.stayed") is True  # the page did not reload


def test_the_editor_changes_what_its_live_side_shows(
    gateway: int, browser: Any, live_server: Any
) -> None:
    with capture_events():  # there before: not an event the live side replays
        MyModel.objects.create(title="Ship the release", count=3)
    page = browser.new_page(viewport={"width": 1280, "height": 760})
    page.goto(f"{live_server.url}/demo/editor/")
    live = page.frame_locator("#live")
    editor = page.frame_locator("#editor")
    live.locator("html[data-live=yes]").wait_for(timeout=WAIT_MS)

    editor.locator("#create input[name=title]").fill("Write the changelog")
    editor.locator("#create input[name=count]").fill("1")
    editor.locator("#create button").click()
    live_changes = live.locator("#changes li")
    live_changes.first.wait_for(timeout=WAIT_MS)
    created = MyModel.objects.get(title="Write the changelog")
    row = editor.locator(f'tr[data-id="{created.pk}"]')
    row.locator("form.update input[name=count]").fill("2")
    row.locator("form.update button").click()
    live_changes.nth(1).wait_for(timeout=WAIT_MS)
    assert live_changes.all_inner_texts() == [
        "create Write the changelog",
        "update Write the changelog",
    ]
    counts = live.locator(f'#objects tr[data-id="{created.pk}"] td').all_inner_texts()
    assert counts == [str(created.pk), "Write the changelog", "2"]
    # The editor's page loads take nothing from the live side: it stayed connected throughout.
    assert live.locator("#status").inner_text() == "● connected"
    page.screenshot(path=SCREENSHOTS / "demo-editor.png")

    editor.locator(f'tr[data-id="{created.pk}"] form.delete button').click()
    live_changes.nth(2).wait_for(timeout=WAIT_MS)
    assert live_changes.nth(2).inner_text() == "delete Write the changelog"
    assert live.locator(f'#objects tr[data-id="{created.pk}"]').count() == 0


def test_in_debug_mode_the_console_names_a_refused_subscription_and_an_unknown_event(
    gateway: int, browser: Any, live_server: Any, settings: Any
) -> None:
    settings.DEBUG = True
    page = browser.new_page()
    warnings: list[str] = []
    page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
    open_connected(page, f"{live_server.url}/demo/simple/")
    assert warnings == []  # the page's own subscription is defined and granted

    refused = 'subscription to "telegraphy_demo.Notification" refused'
    with page.expect_console_message(lambda m: refused in m.text, timeout=WAIT_MS):
        page.evaluate("Telegraphy.default.subscribe('telegraphy_demo.MyModle')")
        page.evaluate("Telegraphy.default.subscribe('telegraphy_demo.Notification')")
    assert warnings[0] == (
        'Telegraphy: no event named "telegraphy_demo.MyModle"; '
        "the app defines telegraphy_demo.MyModel, telegraphy_demo.Notification"
    )
    assert any(w.startswith(f"Telegraphy: {refused}: wamp.error.not_authorized") for w in warnings)


def test_the_chat_shows_who_is_in_the_room(
    gateway: int, browser: Any, live_server: Any, settings: Any
) -> None:
    settings.TELEGRAPHY = {**settings.TELEGRAPHY, "PRESENCE_INFO": "telegraphy_demo.presence.info"}
    pages = {}
    for name in ("ann", "bob"):
        User.objects.create_user(name, password=f"{name}-password")
        page = browser.new_context().new_page()
        sign_in(page, live_server.url, name, f"{name}-password")
        open_live(page, f"{live_server.url}/demo/chat/")
        pages[name] = page
    for page in pages.values():
        page.wait_for_function(
            "() => document.getElementById('present').textContent === 'ann, bob'",
            timeout=WAIT_MS,
        )
    pages["bob"].context.close()  # bob leaves once the gateway's leave delay is over
    pages["ann"].wait_for_function(
        "() => document.getElementById('present').textContent === 'ann'", timeout=WAIT_MS
    )
