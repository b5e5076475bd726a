"""The broker: subscriptions and the fan-out of publications to subscribers.

A publication is turned into one EVENT per matching subscription, serialized and framed once
per codec, and the same frame is written to every receiving session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autobahn.wamp import message as wamp

from ..errors import InvalidUri, LimitExceeded, NoSuchSubscription, NotAuthorized
from ..transport.wire import Codec, Raw
from .ids import global_id, unique_id
from .uri import RESERVED, Pattern, validate_pattern, wildcard_matches

if TYPE_CHECKING:
    from ..session import Session
    from .realm import Realm

_MATCH_CACHE_SIZE = 10_000

Sender = Callable[[bytes], None]


class Subscription:
    __slots__ = ("created", "id", "members", "pattern")

    def __init__(self, subscription_id: int, pattern: Pattern) -> None:
        self.id = subscription_id
        self.pattern = pattern
        self.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # codec -> {session: its transport's send_frame}: one frame per codec per event.
        self.members: dict[Codec, dict[Session, Sender]] = {}

    def add(self, session: Session) -> None:
        self.members.setdefault(session.codec, {})[session] = session.transport.send_frame

    def remove(self, session: Session) -> None:
        group = self.members.get(session.codec, {})
        group.pop(session, None)
        if not group:
            self.members.pop(session.codec, None)

    def has(self, session: Session) -> bool:
        return session in self.members.get(session.codec, ())

    def sessions(self) -> list[Session]:
        return [s for group in self.members.values() for s in group]

    def details(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "uri": self.pattern.uri,
            "match": self.pattern.match,
        }


class Broker:
    def __init__(self, realm: Realm) -> None:
        self._realm = realm
        self._by_id: dict[int, Subscription] = {}
        self._by_pattern: dict[str, dict[str, Subscription]] = {
            "exact": {},
            "prefix": {},
            "wildcard": {},
        }
        self._of_session: dict[Session, set[Subscription]] = {}
        self._matches: dict[str, tuple[Subscription, ...]] = {}

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe(self, session: Session, msg: wamp.Subscribe, raw: Raw) -> None:
        pattern = Pattern(msg.topic, msg.match or "exact")
        if not validate_pattern(pattern.uri, pattern.match):
            raise InvalidUri(f"{pattern.uri!r} is not a valid URI for {pattern.match} match")
        assert session.permissions is not None
        if not session.permissions.allows("subscribe", pattern):
            raise NotAuthorized(f"not authorized to subscribe to {pattern.uri!r}")
        mine = self._of_session.get(session, set())
        existing = self._by_pattern[pattern.match].get(pattern.uri)
        if existing not in mine and len(mine) >= self._realm.limits.max_subscriptions_per_session:
            raise LimitExceeded("too many subscriptions for this session")
        subscription, created, added = self._join(session, pattern)
        session.send(wamp.Subscribed(msg.request, subscription.id))
        self._announce(session, subscription, created, added)
        if added:
            self._realm.clients.subscribed(session, pattern)

    def restore(self, session: Session, pattern: Pattern) -> Subscription:
        """Subscribe a resuming session to what its client record held (no SUBSCRIBED: the
        subscription is listed in WELCOME)."""
        subscription, created, added = self._join(session, pattern)
        self._announce(session, subscription, created, added)
        return subscription

    def _join(self, session: Session, pattern: Pattern) -> tuple[Subscription, bool, bool]:
        subscription = self._by_pattern[pattern.match].get(pattern.uri)
        created = subscription is None
        if subscription is None:
            subscription = self._create(pattern)
        added = not subscription.has(session)
        subscription.add(session)
        self._of_session.setdefault(session, set()).add(subscription)
        return subscription, created, added

    def _announce(
        self, session: Session, subscription: Subscription, created: bool, added: bool
    ) -> None:
        if created:
            self._realm.meta.on_subscription_created(session, subscription)
        if added:  # subscribing again to the same topic changes nothing: no meta event
            self._realm.meta.on_subscribe(session, subscription)

    def unsubscribe(self, session: Session, msg: wamp.Unsubscribe, raw: Raw) -> None:
        subscription = self._by_id.get(msg.subscription)
        if subscription is None or not subscription.has(session):
            raise NoSuchSubscription(f"no subscription {msg.subscription} in this session")
        self._leave(session, subscription)
        self._of_session[session].discard(subscription)
        session.send(wamp.Unsubscribed(msg.request))
        self._realm.clients.unsubscribed(session, subscription.pattern)

    def remove_session(self, session: Session) -> None:
        subscriptions = self._of_session.pop(session, set())
        # Out of every subscription first: a leaving session must get no meta events about its
        # own leaving (its GOODBYE has been answered already).
        for subscription in subscriptions:
            subscription.remove(session)
        for subscription in subscriptions:
            self._left(session, subscription)

    def _create(self, pattern: Pattern) -> Subscription:
        subscription = Subscription(unique_id(self._by_id), pattern)
        self._by_id[subscription.id] = subscription
        self._by_pattern[pattern.match][pattern.uri] = subscription
        self._matches.clear()
        return subscription

    def _leave(self, session: Session, subscription: Subscription) -> None:
        subscription.remove(session)
        self._left(session, subscription)

    def _left(self, session: Session, subscription: Subscription) -> None:
        self._realm.meta.on_unsubscribe(session, subscription)
        if not subscription.members:
            del self._by_id[subscription.id]
            del self._by_pattern[subscription.pattern.match][subscription.pattern.uri]
            self._matches.clear()
            self._realm.meta.on_subscription_deleted(session, subscription)

    # -- lookups (also used by the meta API) -----------------------------------------------

    def subscriptions_of(self, session: Session) -> list[Subscription]:
        return sorted(self._of_session.get(session, ()), key=lambda s: s.id)

    def get(self, subscription_id: int) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def lookup(self, pattern: Pattern) -> Subscription | None:
        return self._by_pattern[pattern.match].get(pattern.uri)

    def ids(self) -> dict[str, list[int]]:
        return {match: [s.id for s in subs.values()] for match, subs in self._by_pattern.items()}

    def matching(self, topic: str) -> tuple[Subscription, ...]:
        found = self._matches.get(topic)
        if found is None:
            found = self._match(topic)
            if len(self._matches) >= _MATCH_CACHE_SIZE:
                self._matches.clear()
            self._matches[topic] = found
        return found

    def _match(self, topic: str) -> tuple[Subscription, ...]:
        found: list[Subscription] = []
        exact = self._by_pattern["exact"].get(topic)
        if exact is not None:
            found.append(exact)
        found.extend(s for p, s in self._by_pattern["prefix"].items() if topic.startswith(p))
        wildcards = self._by_pattern["wildcard"]
        if wildcards:
            components = topic.split(".")
            found.extend(
                s for p, s in wildcards.items() if wildcard_matches(p.split("."), components)
            )
        return tuple(found)

    # -- publications ----------------------------------------------------------------------

    def publish(self, publisher: Session, msg: wamp.Publish, raw: Raw) -> None:
        topic = msg.topic
        if not validate_pattern(topic, "exact"):
            raise InvalidUri(f"{topic!r} is not a valid topic URI")
        if topic.startswith(RESERVED):
            raise NotAuthorized("topics under 'wamp.' are reserved for the router")
        assert publisher.permissions is not None
        if not publisher.permissions.allows("publish", Pattern(topic)):
            raise NotAuthorized(f"not authorized to publish to {topic!r}")
        publication = global_id()
        subscriptions = self.matching(topic)
        if subscriptions:
            options = raw[2]
            identity = _publisher_identity(publisher) if options.get("disclose_me") else {}
            accepts = _receiver_filter(publisher, msg)
            for subscription in subscriptions:
                event = wamp.Event(
                    subscription.id,
                    publication,
                    args=msg.args,
                    kwargs=msg.kwargs,
                    topic=topic if subscription.pattern.match != "exact" else None,
                    **identity,
                )
                _fan_out(subscription, event, accepts, publisher)
        if msg.acknowledge:
            publisher.send(wamp.Published(msg.request, publication))

    def publish_from_router(self, topic: str, args: list[Any]) -> None:
        """Publish from the router itself (meta events, events arriving by ingress) to every
        matching subscriber."""
        subscriptions = self.matching(topic)
        if not subscriptions:
            return
        publication = global_id()
        for subscription in subscriptions:
            event = wamp.Event(
                subscription.id,
                publication,
                args=args,
                topic=topic if subscription.pattern.match != "exact" else None,
            )
            _fan_out(subscription, event, None, None)


def _fan_out(
    subscription: Subscription,
    event: wamp.Event,
    accepts: Callable[[Session], bool] | None,
    excluded: Session | None,
) -> None:
    for codec, group in subscription.members.items():
        frame = codec.frame(event)
        if accepts is None:
            for session, send in group.items():
                if session is not excluded:
                    send(frame)
        else:
            for session, send in group.items():
                if accepts(session):
                    send(frame)


def _publisher_identity(publisher: Session) -> dict[str, Any]:
    return {
        "publisher": publisher.id,
        "publisher_authid": publisher.authid,
        "publisher_authrole": publisher.authrole,
    }


def _receiver_filter(publisher: Session, msg: wamp.Publish) -> Callable[[Session], bool] | None:
    """None for the common case (everyone but the publisher); else a predicate per session."""
    exclude_me = msg.exclude_me is not False
    lists = (
        msg.exclude,
        msg.exclude_authid,
        msg.exclude_authrole,
        msg.eligible,
        msg.eligible_authid,
        msg.eligible_authrole,
    )
    if exclude_me and not any(x is not None for x in lists):
        return None
    exclude = set(msg.exclude or ())
    exclude_authid = set(msg.exclude_authid or ())
    exclude_authrole = set(msg.exclude_authrole or ())
    eligible = None if msg.eligible is None else set(msg.eligible)
    eligible_authid = None if msg.eligible_authid is None else set(msg.eligible_authid)
    eligible_authrole = None if msg.eligible_authrole is None else set(msg.eligible_authrole)

    def accepts(session: Session) -> bool:
        return not (
            (exclude_me and session is publisher)
            or session.id in exclude
            or session.authid in exclude_authid
            or session.authrole in exclude_authrole
            or (eligible is not None and session.id not in eligible)
            or (eligible_authid is not None and session.authid not in eligible_authid)
            or (eligible_authrole is not None and session.authrole not in eligible_authrole)
        )

    return accepts
