"""The demo's model, with Flask-SQLAlchemy."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class MyModel(db.Model):  # type: ignore[name-defined,misc]  # db.Model is made at run time
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    count: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.title
