"""The broker: subscriptions and the fan-out of publications to subscribers.

Every publication goes through its topic's stream (which gives it a position and keeps it in
history) and comes back to `deliver`, which turns it into one EVENT per matching subscription,
serialized and framed once per codec, and writes the same frame to every receiving session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autobahn.wamp import message as wamp
from twisted.internet.defer import Deferred

from ..engines.base import Accepted, Audience, Draft, Entry, Publisher, Streams
from ..errors import InvalidArgument, InvalidUri, LimitExceeded, NoSuchSubscription, NotAuthorized
from ..wire import Codec, NotPortable, Raw, check_portable
from .delivery import event_message, receiver_filter
from .ids import publication_id, unique_id
from .recovery import Recovery, Request, parse_request
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

    def hold(self, session: Session, sender: Sender) -> None:
        """Write `session`'s frames to `sender` instead (while its recovery is read)."""
        group = self.members.get(session.codec, {})
        if session in group:
            group[session] = sender

    def release(self, session: Session) -> None:
        group = self.members.get(session.codec, {})
        if session in group:
            group[session] = session.transport.send_frame

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
    def __init__(self, realm: Realm, streams: Streams, max_recover: int) -> None:
        self._realm = realm
        self._streams = streams
        streams.bind(self.deliver)
        self.recovery = Recovery(self, streams, max_recover)
        self.delivering: Entry | None = None  # the entry `deliver` is writing now
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
        options = raw[2]
        persistent = options.get("persistent", False)
        if not isinstance(persistent, bool):
            raise InvalidArgument("the persistent option must be true or false")
        recover = parse_request(options.get("recover"), pattern)
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
        self._realm.clients.subscribed(session, pattern, persistent)
        if recover is not None:
            self.recovery.start(session, subscription, recover)

    def restore(self, session: Session, pattern: Pattern) -> Subscription:
        """Subscribe a resuming session to what its client record held (no SUBSCRIBED: the
        subscription is listed in WELCOME)."""
        subscription, created, added = self._join(session, pattern)
        self._announce(session, subscription, created, added)
        return subscription

    def recover(self, session: Session, subscription: Subscription, request: Request) -> None:
        self.recovery.start(session, subscription, request)

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
        """PUBLISH from a session: checked here, then the one publication path."""
        topic = msg.topic
        if not validate_pattern(topic, "exact"):
            raise InvalidUri(f"{topic!r} is not a valid topic URI")
        if topic.startswith(RESERVED):
            raise NotAuthorized("topics under 'wamp.' are reserved for the router")
        assert publisher.permissions is not None
        if not publisher.permissions.allows("publish", Pattern(topic)):
            raise NotAuthorized(f"not authorized to publish to {topic!r}")
        try:
            check_portable(msg.args)
            check_portable(msg.kwargs, "keyword arguments")
        except NotPortable as e:
            raise InvalidArgument(f"the publication cannot be delivered: {e}") from None
        draft = Draft(topic, msg.args, msg.kwargs, _publisher(publisher, msg, raw[2]))
        accepted = self.publish_draft(draft)
        if msg.acknowledge:
            accepted.addCallbacks(
                lambda done: publisher.send(wamp.Published(msg.request, done.entry.publication)),
                lambda failure: publisher.refuse_later(msg, failure),
            )
        else:
            accepted.addErrback(lambda failure: publisher.refuse_later(msg, failure))

    def publish_draft(self, draft: Draft) -> Deferred[Accepted]:
        """Every publication (WAMP and ingress) enters here: its stream gives it a position,
        keeps it in history and hands it to `deliver`; the result fires once it is kept."""
        return self._streams.publish(draft)

    def deliver(self, entry: Entry) -> None:
        """Fan a publication out to every matching subscriber: one frame per subscription and
        codec, written to each receiving session (called by the streams, in offset order)."""
        subscriptions = self.matching(entry.topic)
        if not subscriptions:
            return
        publisher = entry.draft.publisher
        accepts = None if publisher is None else receiver_filter(publisher)
        excluded = None
        if publisher is not None and publisher.exclude_me:
            excluded = self._realm.sessions.get(publisher.session)
        self.delivering = entry
        for subscription in subscriptions:
            _fan_out(subscription, event_message(subscription, entry), accepts, excluded)

    def publish_meta(self, topic: str, args: list[Any]) -> None:
        """A meta event (`wamp.*`): delivered now, without a position or history."""
        subscriptions = self.matching(topic)
        if not subscriptions:
            return
        publication = publication_id()
        self.delivering = None  # held by a recovering session: not a publication it replays
        for subscription in subscriptions:
            details = {} if subscription.pattern.match == "exact" else {"topic": topic}
            _fan_out(
                subscription,
                [wamp.Event.MESSAGE_TYPE, subscription.id, publication, details, args],
                None,
                None,
            )


def _fan_out(
    subscription: Subscription,
    message: list[Any],
    accepts: Callable[[Session], bool] | None,
    excluded: Session | None,
) -> None:
    for codec, group in subscription.members.items():
        frame = codec.frame_raw(message)
        if accepts is None:
            for session, send in group.items():
                if session is not excluded:
                    send(frame)
        else:
            for session, send in group.items():
                if accepts(session) and session is not excluded:
                    send(frame)


def _publisher(session: Session, msg: wamp.Publish, options: dict[str, Any]) -> Publisher:
    lists = (
        msg.exclude,
        msg.exclude_authid,
        msg.exclude_authrole,
        msg.eligible,
        msg.eligible_authid,
        msg.eligible_authrole,
    )
    audience = None
    if any(x is not None for x in lists):
        audience = Audience(
            tuple(msg.exclude or ()),
            tuple(msg.exclude_authid or ()),
            tuple(msg.exclude_authrole or ()),
            *(None if x is None else tuple(x) for x in lists[3:]),
        )
    return Publisher(
        session.id,
        session.authid,
        session.authrole,
        session.client_id,
        disclose=bool(options.get("disclose_me")),
        exclude_me=msg.exclude_me is not False,
        audience=audience,
    )
