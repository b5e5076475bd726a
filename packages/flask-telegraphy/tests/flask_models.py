"""Plain SQLAlchemy models for the tests (declarative, no Flask-SQLAlchemy)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(default="")
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    # Filled in by the database: the event must still carry it.
    created: Mapped[datetime.datetime] = mapped_column(server_default=func.current_timestamp())
    tags: Mapped[list[Tag]] = relationship(cascade="all, delete-orphan")


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(50))
    note_id: Mapped[int | None] = mapped_column(ForeignKey("notes.id"))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label.upper()}
