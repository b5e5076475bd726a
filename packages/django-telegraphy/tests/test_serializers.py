"""A model event's `serializer_class` builds its data: a DRF serializer, a Pydantic model or a
callable, for save() and for bulk operations alike (tests/shop/serializers.py, shown in
docs/bulk.rst)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.core.exceptions import ImproperlyConfigured
from shop.models import Order
from shop.serializers import OrderApiEvents, OrderCardEvents, OrderSummaryEvents

from telegraphy.contrib.django_telegraphy.bulk import BULK_BATCH
from telegraphy.contrib.django_telegraphy.conf import capture_events
from telegraphy.contrib.django_telegraphy.events import BaseEventModel
from telegraphy.core import EventError, validate_envelope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registered() -> Iterator[None]:
    definitions = [d().register() for d in (OrderApiEvents, OrderSummaryEvents, OrderCardEvents)]
    yield
    for definition in definitions:
        definition.unregister()


def test_each_kind_of_serializer_builds_the_data_of_a_saved_model(registered: None) -> None:
    with capture_events() as sent:
        order = Order.objects.create(customer="ann", total=Decimal("12.50"))
    for envelope in sent:
        validate_envelope(envelope)
    data = {e["name"]: e["data"] for e in sent}
    assert data == {
        "shop.OrderApi": {"id": order.pk, "customer": "ann", "total": "12.50", "shouted": "ANN"},
        "shop.OrderSummary": {"id": order.pk, "status": "new"},
        "shop.OrderCard": {"id": order.pk, "title": f"Order {order.pk} for ann"},
    }


def test_a_serializer_builds_each_row_of_a_batch() -> None:
    class Batched(OrderSummaryEvents):
        name = "shop.OrderSummaries"
        bulk = BULK_BATCH

    definition = Batched().register()
    try:
        with capture_events() as sent:
            made = Order.objects.bulk_create([Order(customer="ann"), Order(customer="bob")])
    finally:
        definition.unregister()
    (batch,) = sent
    assert batch["data"] == {"objects": [{"id": o.pk, "status": "new"} for o in made]}


def test_serializer_class_replaces_fields_and_exclude_and_must_be_callable() -> None:
    class Both(BaseEventModel):
        model = Order
        serializer_class = OrderSummaryEvents.serializer_class
        fields: ClassVar[Any] = ["id"]

    class NotCallable(BaseEventModel):
        model = Order
        serializer_class: ClassVar[Any] = "OrderSerializer"

    with pytest.raises(ImproperlyConfigured, match="leave out fields and exclude"):
        Both()
    with pytest.raises(ImproperlyConfigured, match="must be a DRF serializer class"):
        NotCallable()


def test_a_serializer_that_makes_no_mapping_is_reported() -> None:
    class Listing(BaseEventModel):
        model = Order
        serializer_class: ClassVar[Any] = staticmethod(lambda order: [order.pk])

    with pytest.raises(EventError, match="made list, not a mapping"):
        Listing().to_dict(Order(pk=1, customer="ann"))
