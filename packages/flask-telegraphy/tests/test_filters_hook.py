"""Flask's `BaseEventModel.filter_for_user`: the filter a user's token carries for an event."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask_models import Note

from telegraphy.contrib.flask_telegraphy._tokens import grants
from telegraphy.contrib.flask_telegraphy.events import BaseEventModel
from telegraphy.core import F


class NoteEvents(BaseEventModel):
    model = Note
    name = "notes.Note"

    def filter_for_user(self, user: Any) -> F | None:
        return None if user.is_staff else F(owner=user.id)


def test_the_users_token_carries_the_events_filter() -> None:
    events = NoteEvents().register()
    try:
        ann = SimpleNamespace(id="7", is_authenticated=True, is_staff=False, get_id=lambda: "7")
        boss = SimpleNamespace(id="1", is_authenticated=True, is_staff=True, get_id=lambda: "1")
        assert grants(ann).filters == {"notes.Note": {"data__owner__exact": "7"}}
        assert grants(boss).filters == {} and "notes.Note" in grants(boss).subscribe_events
    finally:
        events.unregister()
