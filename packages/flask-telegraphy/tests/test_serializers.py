"""A model event's `serializer_class` builds its data: a Pydantic model or any callable, for a
flush and for bulk statements alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask_shop import Base, Order
from pydantic import BaseModel
from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from telegraphy.contrib.flask_telegraphy import BULK_BATCH, BaseEventModel, capture_events
from telegraphy.core import ConfigurationError


class OrderSummary(BaseModel):
    id: int
    status: str


def order_card(order: Order) -> dict[str, object]:
    return {"id": order.id, "title": f"Order {order.id} for {order.customer}"}


class SummaryEvents(BaseEventModel):
    model = Order
    name = "shop.OrderSummary"
    serializer_class = OrderSummary
    bulk = BULK_BATCH


class CardEvents(BaseEventModel):
    model = Order
    name = "shop.OrderCard"
    serializer_class = order_card


def test_a_pydantic_model_and_a_callable_build_the_data(app: Flask, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.sqlite3'}")
    Base.metadata.create_all(engine)
    SummaryEvents().register()
    CardEvents().register()
    with app.app_context(), capture_events() as sent, Session(engine) as session:
        order = Order(customer="ann")
        session.add(order)
        session.commit()
        session.execute(insert(Order), [{"customer": "bob"}, {"customer": "cy"}])
        session.commit()
    data = [(e["name"], e["data"]) for e in sent]
    assert data == [
        ("shop.OrderSummary", {"id": 1, "status": "new"}),
        ("shop.OrderCard", {"id": 1, "title": "Order 1 for ann"}),
        (
            "shop.OrderSummary",
            {"objects": [{"id": 2, "status": "new"}, {"id": 3, "status": "new"}]},
        ),
    ]
    engine.dispose()


def test_serializer_class_replaces_fields() -> None:
    class Both(BaseEventModel):
        model = Order
        serializer_class = order_card
        exclude: ClassVar[Any] = ["total"]

    with pytest.raises(ConfigurationError, match="leave out fields and exclude"):
        Both()
