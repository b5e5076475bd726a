"""Bulk operations send model events on SQLite, in process: bulk_create, bulk_update,
QuerySet.update() and QuerySet.delete(), per row or in batches, after the commit (or into the
outbox). The same on a real PostgreSQL server, with a gateway: test_bulk_processes.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import override_settings
from shop.definitions import LineEvents, OrderEvents
from shop.models import Line, Order

from telegraphy.contrib.django_telegraphy.bulk import BULK_BATCH, EventQuerySet
from telegraphy.contrib.django_telegraphy.conf import capture_events
from telegraphy.contrib.django_telegraphy.events import BaseEventModel
from telegraphy.contrib.django_telegraphy.models import OutboxEvent
from telegraphy.core import Envelope, EventRecorder, F, validate_envelope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def shop_events() -> Iterator[None]:
    definitions = [OrderEvents().register(), LineEvents().register()]
    yield
    for definition in definitions:
        definition.unregister()


@pytest.fixture
def sent() -> Iterator[EventRecorder]:
    """What the test's writes send; a test clears it once it has made what it starts from."""
    with capture_events() as recorder:
        yield recorder


def rows(sent: list[Envelope]) -> list[tuple[str, str, Any]]:
    for envelope in sent:
        validate_envelope(envelope)
    return [(e["name"], e["meta"]["event_type"], e["data"].get("status")) for e in sent]


def orders(*customers: str) -> list[Order]:
    return Order.objects.bulk_create([Order(customer=c) for c in customers])


def test_bulk_create_sends_one_create_per_row_with_its_primary_key(sent: EventRecorder) -> None:
    made = orders("ann", "bob")
    assert rows(sent) == [("shop.Order", "create", "new")] * 2
    assert [e["data"]["id"] for e in sent] == [o.pk for o in made]
    assert sent[0]["data"] == {"id": made[0].pk, "customer": "ann", "status": "new", "total": 0}


def test_rows_that_may_not_have_been_inserted_send_nothing(sent: EventRecorder) -> None:
    # ignore_conflicts: the database returns no primary keys, nor which rows it skipped.
    Order.objects.bulk_create([Order(customer="ann")], ignore_conflicts=True)
    assert sent == []


def test_bulk_update_sends_the_objects_as_written(sent: EventRecorder) -> None:
    made = orders("ann", "bob")
    for order in made:
        order.status = "paid"
    sent.clear()
    assert Order.objects.bulk_update(made, ["status"]) == 2
    assert rows(sent) == [("shop.Order", "update", "paid")] * 2


def test_update_sends_the_rows_it_changed_as_they_are_after_it(sent: EventRecorder) -> None:
    ann, bob, _ = orders("ann", "bob", "cy")
    Order.objects.filter(pk=bob.pk).update(status="paid")
    sent.clear()
    # The filter no longer matches the rows once updated: they were selected before.
    changed = (
        Order.objects.filter(status="new")
        .exclude(customer="cy")
        .update(status="shipped", total=Decimal("9.50"))
    )
    assert changed == 1
    assert rows(sent) == [("shop.Order", "update", "shipped")]
    assert sent[0]["data"] == {
        "id": ann.pk,
        "customer": "ann",
        "status": "shipped",
        "total": "9.50",
    }


def test_delete_sends_rows_per_row_and_cascaded_rows_in_batches(sent: EventRecorder) -> None:
    ann, bob = orders("ann", "bob")
    Line.objects.bulk_create(
        [Line(order=order, product=f"p{n}") for order in (ann, bob) for n in range(150)]
    )
    sent.clear()
    Order.objects.filter(customer__in=["ann", "bob"]).delete()
    per_row = [e for e in sent if e["name"] == "shop.Order"]
    batches = [e for e in sent if e["name"] == "shop.Line"]
    assert sorted(e["data"]["customer"] for e in per_row) == ["ann", "bob"]
    assert [e["meta"]["batch"] for e in batches] == [100, 100, 100]
    assert {e["meta"]["event_type"] for e in batches} == {"delete"}
    assert sum(len(e["data"]["objects"]) for e in batches) == 300


def test_batches_carry_at_most_batch_size_rows(sent: EventRecorder) -> None:
    (order,) = orders("ann")
    sent.clear()
    Line.objects.bulk_create([Line(order=order, product=f"p{n}") for n in range(250)])
    Line.objects.filter(product__in=["p0", "p1"]).update(quantity=5)
    assert [(e["meta"]["event_type"], e["meta"]["batch"]) for e in sent] == [
        ("create", 100),
        ("create", 100),
        ("create", 50),
        ("update", 2),
    ]
    assert sent[3]["data"]["objects"][0]["quantity"] == 5
    assert sent[3]["meta"]["verbose_name"] == "line"


def test_events_wait_for_the_commit_and_a_rollback_sends_nothing(sent: EventRecorder) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        orders("ann")
        Order.objects.update(status="paid")
        raise RuntimeError
    with transaction.atomic():
        orders("bob")
        assert sent == []
    assert rows(sent) == [("shop.Order", "create", "new")]


def test_a_definition_without_bulk_sends_no_bulk_events(sent: EventRecorder) -> None:
    class Plain(BaseEventModel):
        model = Order

    OrderEvents().unregister()
    plain = Plain().register()
    try:
        orders("ann")
        Order.objects.update(status="paid")
        Order.objects.all().delete()  # post_delete: model events as before, one per row
    finally:
        plain.unregister()
    assert rows(sent) == [("shop.Order", "delete", "paid")]


def test_with_the_outbox_on_bulk_events_are_written_in_the_transaction() -> None:
    outbox = {**settings.TELEGRAPHY, "OUTBOX": True, "OUTBOX_RELAY": False}
    with override_settings(TELEGRAPHY=outbox), transaction.atomic():
        orders("ann", "bob")
        Order.objects.update(status="paid")
        written = [json.loads(r.envelope) for r in OutboxEvent.objects.order_by("id")]
    assert (
        rows(written)
        == [("shop.Order", "create", "new")] * 2 + [("shop.Order", "update", "paid")] * 2
    )


def test_a_queryset_of_ones_own_can_send_bulk_events_too(sent: EventRecorder) -> None:
    class OrderQuerySet(EventQuerySet[Order]):
        def paid(self) -> OrderQuerySet:
            return self.filter(status="paid")

    orders("ann")
    sent.clear()
    OrderQuerySet(Order).update(status="paid")
    assert OrderQuerySet(Order).paid().count() == 1
    assert rows(sent) == [("shop.Order", "update", "paid")]


def test_mistakes_are_reported_when_the_class_is_made() -> None:
    class Unknown(BaseEventModel):
        model = Order
        bulk = "all"

    class Filtered(BaseEventModel):
        model = Order
        bulk = BULK_BATCH

        def filter_for_user(self, user: Any) -> F:
            return F(customer=user.username)

    class Empty(BaseEventModel):
        model = Order
        bulk = BULK_BATCH
        batch_size: ClassVar[int] = 0

    with pytest.raises(ImproperlyConfigured, match="is not BULK_ROWS"):
        Unknown()
    with pytest.raises(ImproperlyConfigured, match="cannot filter among them per user"):
        Filtered()
    with pytest.raises(ImproperlyConfigured, match="batch_size must be a positive int, got 0"):
        Empty()
