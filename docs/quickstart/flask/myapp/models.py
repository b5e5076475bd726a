from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class MyModel(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
