"""Telegraphy's own router procedures, the seeds' gateway RPCs: `telegraphy.subscriptions`
(any session: its own subscriptions) and `telegraphy.subscriptors` (backends: who is
subscribed to an event)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegraphy.core import EventError, event_topic

from ..auth import ANONYMOUS_ROLE, USER_ROLE
from ..errors import InvalidArgument, NotAuthorized
from .clients import subscription_details
from .meta import Procedure, checked

if TYPE_CHECKING:
    from ..session import Session
    from .realm import Realm

SUBSCRIPTIONS = "telegraphy.subscriptions"
SUBSCRIPTORS = "telegraphy.subscriptors"


class RouterProcedures:
    def __init__(self, realm: Realm) -> None:
        self._realm = realm

    def procedure(self, uri: str, caller: Session) -> Procedure | None:
        """The procedure at `uri` as `caller` calls it, or None if the router has none there."""
        if uri == SUBSCRIPTIONS:
            return checked(uri, lambda: self.subscriptions(caller))
        if uri == SUBSCRIPTORS:
            return checked(uri, lambda event_name: self.subscriptors(caller, event_name))
        return None

    def subscriptions(self, caller: Session) -> list[dict[str, Any]]:
        return [subscription_details(s) for s in self._realm.broker.subscriptions_of(caller)]

    def subscriptors(self, caller: Session, event_name: Any) -> list[dict[str, Any]]:
        if caller.authrole in (USER_ROLE, ANONYMOUS_ROLE):
            raise NotAuthorized(f"{SUBSCRIPTORS} is for backends only")
        try:
            topic = event_topic(event_name, self._realm.config.topic_prefix)
        except EventError as e:
            raise InvalidArgument(f"{SUBSCRIPTORS}: {e}") from None
        sessions = {s.id: s for sub in self._realm.broker.matching(topic) for s in sub.sessions()}
        return [
            {"session": s.id, "authid": s.authid, "authrole": s.authrole}
            for s in sorted(sessions.values(), key=lambda s: s.id)
        ]
