"""The page's `since`: when the request started, under WSGI and ASGI, less the margin."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.test import AsyncClient, Client, RequestFactory
from django.urls import path

from telegraphy.contrib.django_telegraphy.conf import get_settings
from telegraphy.contrib.django_telegraphy.render_gap import STARTED, started_at

pytestmark = pytest.mark.django_db
PAGE = Template("{% load telegraphy_tags %}{% telegraphy_scripts %}")
CONFIG = re.compile(r'<script id="telegraphy-config" type="application/json">(.*?)</script>')
entered: list[float] = []


def page(request: HttpRequest) -> HttpResponse:
    """A view that reads its data (here: notes the time) before it renders."""
    entered.append(time.time())
    time.sleep(0.01)
    return HttpResponse(PAGE.render(Context({"request": request})))


urlpatterns = [path("page/", page)]


def since_of(html: str) -> float:
    found = CONFIG.search(html)
    assert found, html
    since: float = json.loads(found.group(1))["since"]
    return since


@pytest.fixture
def margin(settings: Any) -> float:
    settings.ROOT_URLCONF = __name__
    settings.TELEGRAPHY = {**settings.TELEGRAPHY, "RENDER_GAP_MARGIN": 0.5}
    entered.clear()
    return 0.5


def test_under_wsgi_since_is_when_the_request_started_less_the_margin(margin: float) -> None:
    before = time.time()
    since = since_of(Client().get("/page/").content.decode())
    assert before - margin <= since <= entered[0] - margin


def test_under_asgi_since_is_when_the_request_started_less_the_margin(margin: float) -> None:
    before = time.time()
    response = asyncio.run(AsyncClient().get("/page/"))
    since = since_of(response.content.decode())
    assert before - margin <= since <= entered[0] - margin


def test_without_a_request_start_since_is_now_less_the_margin() -> None:
    request = RequestFactory().get("/")  # no request_started signal: no start time
    assert started_at(request) is None and started_at(None) is None
    before = time.time()
    since = since_of(PAGE.render(Context({"request": request})))
    assert before - 2.0 <= since <= time.time() - 2.0
    request.META[STARTED] = 1_700_000_000.0
    assert since_of(PAGE.render(Context({"request": request}))) == 1_699_999_998.0


def test_a_bad_margin_is_refused_naming_the_key(settings: Any) -> None:
    settings.TELEGRAPHY = {**settings.TELEGRAPHY, "RENDER_GAP_MARGIN": "2s"}
    with pytest.raises(ImproperlyConfigured, match="render_gap_margin must be a number of"):
        get_settings()
