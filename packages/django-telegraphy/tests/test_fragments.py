"""Server-rendered fragments in Django: a model event renders its template once per audience
when the instance changes, escaped, and sends it in meta.fragment; tokens keep each user to
their audience; the template tags write the marks. The fragments page's Python runs as shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.template import Context, Template, TemplateSyntaxError
from shop.models import Order

from telegraphy.contrib.django_telegraphy import tokens
from telegraphy.contrib.django_telegraphy.conf import capture_events
from telegraphy.contrib.django_telegraphy.events import BaseEventModel
from telegraphy.core import AUDIENCE_STAFF, MAX_FRAGMENT_SIZE, EventError

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = Path(__file__).resolve().parents[3] / "docs" / "fragments.rst"
TEMPLATES = Path(__file__).resolve().parent / "shop" / "templates"


def block(language: str) -> str:
    """The fragments page's first `.. code-block:: <language>`, dedented."""
    lines = PAGE.read_text().splitlines()
    start = lines.index(f".. code-block:: {language}") + 2
    body = []
    for text in lines[start:]:
        if text.strip() and not text.startswith("   "):
            break
        body.append(text[3:])
    return "\n".join(body).strip() + "\n"


def test_the_pages_template_is_the_one_these_tests_render() -> None:
    assert block("html+django") == (TEMPLATES / "shop" / "order_row.html").read_text()


@pytest.fixture
def order_events() -> Iterator[BaseEventModel]:
    """The page's OrderEvents, registered: public and staff renderings of shop/order_row.html."""
    namespace: dict[str, Any] = {"Order": Order, "__name__": "shop.events"}
    exec(block("python"), namespace)
    events: BaseEventModel = namespace["OrderEvents"]()
    events.register()
    yield events
    events.unregister()


def test_each_change_is_rendered_once_per_audience_and_escaped(
    order_events: BaseEventModel,
) -> None:
    with capture_events() as sent:
        order = Order.objects.create(customer="<ann>", status="<b>new</b>")
    public, staff = sent
    assert [e["meta"]["fragment"]["audience"] for e in sent] == ["public", "staff"]
    assert (
        public["meta"]["fragment"]["object"] == staff["meta"]["fragment"]["object"] == str(order.pk)
    )
    html = public["meta"]["fragment"]["html"]
    assert "&lt;b&gt;new&lt;/b&gt;" in html and "<b>" not in html
    assert f'data-telegraphy-object="{order.pk}"' in html
    assert "&lt;ann&gt;" not in html  # the customer column is the staff rendering's only
    assert "&lt;ann&gt;" in staff["meta"]["fragment"]["html"]
    assert staff["meta"]["id"] == public["meta"]["id"] + "-staff"  # the ingress keeps both
    assert public["data"] == staff["data"]


def test_a_delete_carries_no_html_and_a_rollback_sends_nothing(
    order_events: BaseEventModel,
) -> None:
    with capture_events():
        order = Order.objects.create(customer="ann")
    with capture_events() as sent:
        with transaction.atomic():
            Order.objects.create(customer="rolled back")
            transaction.set_rollback(True)
        order.delete()
    assert [e["meta"]["event_type"] for e in sent] == ["delete", "delete"]
    assert all("html" not in e["meta"]["fragment"] for e in sent)


def test_each_users_token_keeps_them_to_their_audience(order_events: BaseEventModel) -> None:
    ann = User.objects.create_user("ann")
    boss = User.objects.create_user("boss", is_staff=True)
    assert tokens.grants(ann).filters == {
        "shop.Order": {
            "and": [
                {"data__customer__exact": "ann"},
                {"meta__fragment__audience__exact": "public"},
            ]
        }
    }
    assert tokens.grants(boss).filters == {
        "shop.Order": {"meta__fragment__audience__exact": "staff"}
    }


def test_a_definition_without_a_template_sends_no_fragment() -> None:
    class Plain(BaseEventModel):
        model = Order

    events = Plain()
    events.register()
    try:
        with capture_events() as sent:
            Order.objects.create(customer="ann")
        assert "fragment" not in sent[0]["meta"]
        assert tokens.grants(User.objects.create_user("ann")).filters == {}
    finally:
        events.unregister()


def test_wrong_audiences_are_refused_when_the_definition_is_made() -> None:
    class Unknown(BaseEventModel):
        model = Order
        fragment_template = "shop/order_row.html"
        fragment_audiences = ("everyone",)

    class PublicStaff(BaseEventModel):
        model = Order
        public = True
        fragment_template = "shop/order_row.html"
        fragment_audiences = ("public", AUDIENCE_STAFF)

    with pytest.raises(ImproperlyConfigured, match="fragment_audiences: everyone"):
        Unknown()
    with pytest.raises(ImproperlyConfigured, match="set public = False"):
        PublicStaff()


def test_a_fragment_over_the_size_limit_is_refused(order_events: BaseEventModel) -> None:
    with capture_events(), pytest.raises(EventError, match="over 65536 bytes"):
        Order.objects.create(customer="ann", status="x" * (MAX_FRAGMENT_SIZE + 1))


def render(text: str, **context: Any) -> str:
    return Template("{% load telegraphy_tags %}" + text).render(Context(context))


def test_the_tags_write_the_marks_escaped() -> None:
    assert render('{% telegraphy_fragments "shop.Order" "prepend" %}') == (
        'data-telegraphy-fragment="shop.Order" data-telegraphy-action="prepend"'
    )
    assert render('{% telegraphy_fragments "shop.Order" %}').endswith('action="append"')
    order = Order(pk=5)
    assert render("{% telegraphy_object order %}", order=order) == 'data-telegraphy-object="5"'
    assert render("{% telegraphy_object key %}", key='"><x') == (
        'data-telegraphy-object="&quot;&gt;&lt;x"'
    )
    with pytest.raises(ValueError, match="unknown fragment action 'swap'"):
        render('{% telegraphy_fragments "shop.Order" "swap" %}')
    with pytest.raises((TemplateSyntaxError, EventError)):
        render('{% telegraphy_fragments "bad name" %}')
