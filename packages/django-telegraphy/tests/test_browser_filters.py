"""Per-object authorization in a real browser: two customers on one orders page, subscribed to
one event, each sees only their own orders' updates. No per-user channel anywhere: the event's
`filter_for_user` puts a filter in each user's token, and the gateway enforces it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from test_browser_demo import WAIT_MS, browser, chromium_is_installed, gateway, sign_in

from telegraphy.contrib.django_telegraphy.conf import get_sender
from telegraphy.contrib.django_telegraphy.events import registry, send_event
from telegraphy.core import CustomDefinition, Event, F

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["browser", "chromium_is_installed", "gateway"]  # fixtures shared with the demo's


class OrderUpdated(Event):
    """An order changed: every customer's orders are this one event."""

    name = "shop.OrderUpdated"
    public: ClassVar[bool] = False
    number: int
    customer: int
    status: str

    @classmethod
    def filter_for_user(cls, user: Any) -> F:
        return F(customer=user.pk)


ORDERS_PAGE = """{% extends "telegraphy_demo/base.html" %}
{% block content %}
<ul id="orders"></ul>
<script>
  Telegraphy.register("shop.OrderUpdated", function (tEvent) {
    var item = document.createElement("li");
    item.textContent = "#" + tEvent.data.number + " " + tEvent.data.status;
    document.getElementById("orders").appendChild(item);
  });
  Telegraphy.default.on("open", function () { document.documentElement.dataset.live = "yes"; });
</script>
{% endblock %}"""


def orders(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(ORDERS_PAGE).render(request=request))


urlpatterns = [path("orders/", orders), path("", include("django_demo.urls"))]


@pytest.fixture
def order_event(settings: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = __name__
    definition = registry.register(CustomDefinition(OrderUpdated))
    yield
    registry.unregister(definition)


def test_each_customer_sees_only_their_own_orders(
    order_event: None, gateway: int, browser: Any, live_server: Any
) -> None:
    pages = {}
    for name in ("ann", "bob"):
        user = User.objects.create_user(name, password=f"{name}-password")
        page = browser.new_context().new_page()
        sign_in(page, live_server.url, name, f"{name}-password")
        page.goto(f"{live_server.url}/orders/")
        page.wait_for_selector("html[data-live=yes]", timeout=WAIT_MS)
        pages[user.pk] = page
    ann, bob = pages

    for number, customer, status in [(1, bob, "paid"), (2, ann, "paid"), (3, bob, "shipped")]:
        send_event(OrderUpdated(number=number, customer=customer, status=status))
    send_event(OrderUpdated(number=4, customer=ann, status="shipped"))
    assert get_sender().flush(10)  # type: ignore[attr-defined]

    # Each page's last order arrives after every other order was sent: had one of the other
    # customer's reached it, it would be on the page by then.
    for pk, expected in ((ann, ["#2 paid", "#4 shipped"]), (bob, ["#1 paid", "#3 shipped"])):
        items = pages[pk].locator("#orders li")
        items.nth(1).wait_for(timeout=WAIT_MS)
        assert items.all_inner_texts() == expected
