"""The session and subscription meta API: procedures the router answers itself, and meta events."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument, NoSuchSession, NoSuchSubscription
from .uri import MATCH_POLICIES, Pattern

if TYPE_CHECKING:
    from ..session import Session
    from .realm import Realm
    from .subscription import Subscription

Procedure = Callable[..., Any]


def _id_argument(value: Any) -> int:
    # A WAMP ID is an integer; anything else is a wrong argument, not an unknown ID.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"expected a WAMP ID, got {value!r}")
    return value


def checked(uri: str, function: Procedure) -> Procedure:
    """`function`, answering wrong arguments with wamp.error.invalid_argument."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError as e:
            raise InvalidArgument(f"{uri}: {e}") from e
        return function(*args, **kwargs)

    return call


class MetaApi:
    def __init__(self, realm: Realm) -> None:
        self._realm = realm
        self._procedures: dict[str, Procedure] = {
            "wamp.session.count": self.session_count,
            "wamp.session.list": self.session_list,
            "wamp.session.get": self.session_get,
            "wamp.subscription.list": self.subscription_list,
            "wamp.subscription.lookup": self.subscription_lookup,
            "wamp.subscription.match": self.subscription_match,
            "wamp.subscription.get": self.subscription_get,
            "wamp.subscription.list_subscribers": self.list_subscribers,
            "wamp.subscription.count_subscribers": self.count_subscribers,
        }

    def procedure(self, uri: str) -> Procedure | None:
        """The router-implemented procedure at `uri`, checking its arguments before running."""
        function = self._procedures.get(uri)
        return None if function is None else checked(uri, function)

    # -- wamp.session.* --------------------------------------------------------------------

    def _sessions(self, filter_authroles: list[str] | None) -> list[Session]:
        sessions = list(self._realm.sessions.values())
        if filter_authroles is None:
            return sessions
        if not isinstance(filter_authroles, list):
            raise InvalidArgument("filter_authroles must be a list of roles")
        return [s for s in sessions if s.authrole in filter_authroles]

    def session_count(self, filter_authroles: list[str] | None = None) -> int:
        return len(self._sessions(filter_authroles))

    def session_list(self, filter_authroles: list[str] | None = None) -> list[int]:
        return [s.id for s in self._sessions(filter_authroles)]

    def session_get(self, session_id: int) -> dict[str, Any]:
        session = self._realm.sessions.get(_id_argument(session_id))
        if session is None:
            raise NoSuchSession(f"no session {session_id!r}")
        return session.details()

    # -- wamp.subscription.* ---------------------------------------------------------------

    def subscription_list(self) -> dict[str, list[int]]:
        return self._realm.broker.ids()

    def subscription_lookup(self, topic: str, options: dict[str, Any] | None = None) -> int | None:
        if options is not None and not isinstance(options, dict):
            raise InvalidArgument("lookup takes a topic URI and options {match}")
        match = (options or {}).get("match", "exact")
        if not isinstance(topic, str) or match not in MATCH_POLICIES:
            raise InvalidArgument("lookup takes a topic URI and options {match}")
        found = self._realm.broker.lookup(Pattern(topic, match))
        return found.id if found else None

    def subscription_match(self, topic: str) -> list[int] | None:
        if not isinstance(topic, str):
            raise InvalidArgument("match takes a topic URI")
        return [s.id for s in self._realm.broker.matching(topic)] or None

    def _subscription(self, subscription_id: int) -> Subscription:
        found = self._realm.broker.get(_id_argument(subscription_id))
        if found is None:
            raise NoSuchSubscription(f"no subscription {subscription_id!r}")
        return found

    def subscription_get(self, subscription_id: int) -> dict[str, Any]:
        return self._subscription(subscription_id).details()

    def list_subscribers(self, subscription_id: int) -> list[int]:
        return [s.id for s in self._subscription(subscription_id).sessions()]

    def count_subscribers(self, subscription_id: int) -> int:
        return len(self._subscription(subscription_id).sessions())

    # -- meta events -----------------------------------------------------------------------

    def _emit(self, topic: str, *args: Any) -> None:
        self._realm.broker.publish_meta(topic, list(args))

    def on_join(self, session: Session) -> None:
        self._emit("wamp.session.on_join", session.details())

    def on_leave(self, session: Session) -> None:
        self._emit("wamp.session.on_leave", session.id, session.authid, session.authrole)

    def on_subscription_created(self, session: Session, subscription: Subscription) -> None:
        self._emit("wamp.subscription.on_create", session.id, subscription.details())

    def on_subscribe(self, session: Session, subscription: Subscription) -> None:
        self._emit("wamp.subscription.on_subscribe", session.id, subscription.id)

    def on_unsubscribe(self, session: Session, subscription: Subscription) -> None:
        self._emit("wamp.subscription.on_unsubscribe", session.id, subscription.id)

    def on_subscription_deleted(self, session: Session, subscription: Subscription) -> None:
        self._emit("wamp.subscription.on_delete", session.id, subscription.id)
