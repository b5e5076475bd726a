"""The demo's events: MyModel's create/update/delete, a per-user notification, a chat."""

from __future__ import annotations

from typing import ClassVar

from telegraphy.contrib.django_telegraphy.events import (
    BaseChannel,
    BaseEventModel,
    register_event,
)
from telegraphy.core import Event

from .models import MyModel


class MyEventsModel(BaseEventModel):
    model = MyModel
    # The demo's pages work without signing in: anyone may see MyModel's events.
    public = True
    # Each change also carries its table row, rendered once: the live rows page shows it.
    fragment_template = "telegraphy_demo/fragments/my_model_row.html"


event = MyEventsModel()
event.register()


@register_event
class Notification(Event):
    """Sent to one user's channel only (send_to_user): nobody else sees it."""

    name = "telegraphy_demo.Notification"
    public: ClassVar[bool] = False
    message: str


class ChatChannel(BaseChannel):
    """Every chat room (chat.<room>): signed-in users read and write."""

    name = "chat.*"
    publish = True


ChatChannel().register()
