"""A small shop for the bulk operations tests; docs/bulk.rst shows this code."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from telegraphy.contrib.flask_telegraphy import BULK_BATCH, BULK_ROWS, BaseEventModel


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="new")
    total: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))


class Line(Base):
    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(default=1)


class OrderEvents(BaseEventModel):
    model = Order
    name = "shop.Order"
    bulk = BULK_ROWS  # one event per row, as a flush sends


class LineEvents(BaseEventModel):
    model = Line
    name = "shop.Line"
    bulk = BULK_BATCH  # one event per 100 rows: data = {"objects": [...]}
    batch_size = 100
