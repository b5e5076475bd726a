"""Live fragments in a real browser: the demo's live rows page, which has no JavaScript of its
own, and an htmx page built the same way, show rows appended, replaced and removed as the ORM
changes them. htmx comes from js/node_modules (npm ci), never from the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.http import FileResponse, HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from telegraphy_demo.models import MyModel
from test_browser_demo import WAIT_MS, browser, chromium_is_installed, gateway

from telegraphy.contrib.django_telegraphy.conf import get_sender

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["browser", "chromium_is_installed", "gateway"]  # fixtures shared with the demo's

HTMX = Path(__file__).resolve().parents[3] / "js" / "node_modules" / "htmx.org" / "dist"

HTMX_PAGE = """{% load static telegraphy_tags %}<!doctype html>
<html><head>
<script src="/htmx.min.js"></script>
{% telegraphy_scripts %}
<script src="{% static 'telegraphy/telegraphy-htmx.js' %}"></script>
</head><body hx-ext="telegraphy">
<table><tbody id="live-rows" {% telegraphy_fragments "telegraphy_demo.MyModel" %}>
{% for object in objects %}{% include "telegraphy_demo/fragments/my_model_row.html" %}{% endfor %}
</tbody></table>
</body></html>"""


def htmx_page(request: HttpRequest) -> HttpResponse:
    page = engines["django"].from_string(HTMX_PAGE)
    return HttpResponse(page.render({"objects": MyModel.objects.all()}, request))


def htmx_script(request: HttpRequest) -> FileResponse:
    assert (HTMX / "htmx.min.js").exists(), "htmx is a dev dependency of js/: cd js && npm ci"
    return FileResponse((HTMX / "htmx.min.js").open("rb"), content_type="text/javascript")


urlpatterns = [
    path("htmx/", htmx_page),
    path("htmx.min.js", htmx_script),
    path("", include("django_demo.urls")),
]


@pytest.fixture
def urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


def rows(page: Any) -> list[str]:
    texts: list[str] = page.locator("#live-rows tr").all_inner_texts()
    return [" ".join(text.split()) for text in texts]


def appended_replaced_and_removed(page: Any, url: str) -> None:
    """Opens `url` once its client subscribed, changes rows through the ORM, checks the page."""
    kept = MyModel.objects.create(title="kept", count=1)
    gone = MyModel.objects.create(title="going", count=2)
    page.goto(url)
    page.wait_for_function("() => window.Telegraphy && Telegraphy.default", timeout=WAIT_MS)
    page.evaluate("Telegraphy.default.subscribe('telegraphy_demo.MyModel').ready")
    assert rows(page) == [f"{kept.pk} kept 1", f"{gone.pk} going 2"]

    added = MyModel.objects.create(title="<b>new</b>", count=3)
    kept.title, kept.count = "kept, changed", 10
    kept.save()
    gone.delete()
    assert get_sender().flush(10)  # type: ignore[attr-defined]
    page.wait_for_function(
        "() => document.querySelectorAll('#live-rows tr').length === 2"
        " && document.querySelector('#live-rows tr').textContent.includes('changed')",
        timeout=WAIT_MS,
    )
    assert rows(page) == [f"{kept.pk} kept, changed 10", f"{added.pk} <b>new</b> 3"]
    assert page.locator("#live-rows b").count() == 0  # the title was escaped by the template


def test_the_live_rows_page_has_no_javascript_of_its_own(
    gateway: int, browser: Any, live_server: Any
) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    appended_replaced_and_removed(page, f"{live_server.url}/demo/live_rows/")
    scripts = page.eval_on_selector_all("script", "s => s.map(e => e.src || e.textContent)")
    assert all("telegraphy" in s.lower() for s in scripts), scripts  # the client and its config
    assert problems == []


def test_an_htmx_page_does_the_same_with_out_of_band_swaps(
    urls: None, gateway: int, browser: Any, live_server: Any
) -> None:
    page = browser.new_page()
    page.add_init_script(
        "document.addEventListener('htmx:oobAfterSwap',"
        " () => { window.oobSwaps = (window.oobSwaps || 0) + 1 })"
    )
    appended_replaced_and_removed(page, f"{live_server.url}/htmx/")
    assert page.evaluate("window.oobSwaps") >= 3
