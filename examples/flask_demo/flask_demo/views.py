"""The demo's pages: the live change tracker, and a page of forms that change MyModels."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .models import MyModel, db

blueprint = Blueprint("demo", __name__)


@blueprint.get("/")
def index() -> str:
    return render_template("index.html")


@blueprint.get("/demo/editor/")
def editor() -> str:
    """The forms on one side, the change tracker on the other (both in frames)."""
    return render_template("editor.html")


@blueprint.get("/demo/change_tracker/")
def change_tracker() -> str:
    return render_template("change_tracker.html", objects=_all())


@blueprint.get("/demo/models/")
def models() -> str:
    return render_template("models.html", objects=_all())


@blueprint.post("/demo/models/")
def create() -> Response:
    db.session.add(MyModel(**_fields()))
    db.session.commit()
    return redirect(url_for(".models"))


@blueprint.post("/demo/models/<int:pk>/")
def update(pk: int) -> Response:
    thing = db.get_or_404(MyModel, pk)
    for name, value in _fields().items():
        setattr(thing, name, value)
    db.session.commit()
    return redirect(url_for(".models"))


@blueprint.post("/demo/models/<int:pk>/delete/")
def delete(pk: int) -> Response:
    db.session.delete(db.get_or_404(MyModel, pk))
    db.session.commit()
    return redirect(url_for(".models"))


def _all() -> list[MyModel]:
    return list(db.session.scalars(db.select(MyModel).order_by(MyModel.id)))


def _fields() -> dict[str, object]:
    form = request.form
    return {
        "title": form.get("title", "").strip() or "untitled",
        "description": form.get("description", ""),
        "count": form.get("count", 0, type=int),
    }
