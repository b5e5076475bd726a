"""The demo's events: MyModel's create/update/delete (named "flask_demo.MyModel")."""

from __future__ import annotations

from telegraphy.contrib.flask_telegraphy import BaseEventModel

from .models import MyModel


class MyModelEvents(BaseEventModel):
    model = MyModel
    # The demo's pages work without signing in: anyone may see MyModel's events.
    public = True


def register() -> None:
    MyModelEvents().register()
