"""Telegraphy for Flask: SQLAlchemy model events that reach the browser in real time.

from telegraphy.contrib.flask_telegraphy import Telegraphy

telegraphy = Telegraphy(app)          # or Telegraphy() and telegraphy.init_app(app)
"""

from __future__ import annotations

__version__ = "0.1.0"

from telegraphy.core import BULK_BATCH, BULK_ROWS

from ._outbox import outbox_metadata, outbox_table
from ._state import EventRecorder, TelegraphyState, capture_events, get_state
from .events import (
    OP_CREATE,
    OP_DELETE,
    OP_UPDATE,
    BaseChannel,
    BaseEventModel,
    register_event,
    registered_channels,
    registered_events,
)
from .extension import (
    Telegraphy,
    client_config,
    send_event,
    send_to_channel,
    send_to_user,
    telegraphy_config,
    telegraphy_scripts,
)

__all__ = [
    "BULK_BATCH",
    "BULK_ROWS",
    "BaseChannel",
    "BaseEventModel",
    "EventRecorder",
    "OP_CREATE",
    "OP_DELETE",
    "OP_UPDATE",
    "Telegraphy",
    "TelegraphyState",
    "__version__",
    "capture_events",
    "client_config",
    "get_state",
    "outbox_metadata",
    "outbox_table",
    "register_event",
    "registered_channels",
    "registered_events",
    "send_event",
    "send_to_channel",
    "send_to_user",
    "telegraphy_config",
    "telegraphy_scripts",
]
