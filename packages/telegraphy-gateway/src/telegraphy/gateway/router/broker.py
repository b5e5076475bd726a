"""The broker: subscriptions and the fan-out of publications to subscribers.

Every publication goes through its topic's stream (which gives it a position and keeps it in
history) and comes back to `deliver`, which turns it into one EVENT per matching subscription,
serialized and framed once per codec, and writes the same frame to every receiving session.
A subscription is a topic pattern with a filter (the subscriber's own ANDed with its token's):
each distinct filter is evaluated once per publication (router/filters.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from autobahn.wamp import message as wamp
from twisted.internet.defer import Deferred

from telegraphy.core import PRESENCE_TOPIC_PREFIX, conjoin_filters

from ..engines.base import Accepted, Draft, Entry, Streams
from ..errors import (
    InvalidArgument,
    InvalidUri,
    LimitExceeded,
    NoSuchSubscription,
    NotAuthorized,
    WampError,
)
from ..wire import Codec, EventFrames, NotPortable, Raw, check_portable
from .delivery import event_message, publisher_of, receiver_filter
from .filters import Compiler, Filter, asked, document, own_filter
from .ids import publication_id, unique_id
from .recovery import Recovery, Request, parse_request
from .subscription import Subscription
from .tally import DeliveryTally
from .uri import RESERVED, Pattern, validate_pattern, wildcard_matches

if TYPE_CHECKING:
    from ..session import Session
    from .realm import Realm

_MATCH_CACHE_SIZE = 10_000


class Broker:
    def __init__(self, realm: Realm, streams: Streams, max_recover: int) -> None:
        self._realm = realm
        self._streams = streams
        streams.bind(self.deliver)
        self.tally = DeliveryTally()  # what was delivered and recovered, for /metrics
        self.recovery = Recovery(self, streams, max_recover)
        self.delivering: Entry | None = None  # the entry `deliver` is writing now
        self.filter_evaluations = 0  # filters run on publications, one per distinct filter
        self._filters = Compiler()
        self._by_id: dict[int, Subscription] = {}
        # match -> uri -> filter key (None: no filter) -> subscription
        self._by_pattern: dict[str, dict[str, dict[str | None, Subscription]]] = {
            "exact": {},
            "prefix": {},
            "wildcard": {},
        }
        # A session's subscriptions, each with the patterns (and own filters) it asked for:
        # several when filters written differently are equal.
        self._of_session: dict[Session, dict[Subscription, list[Pattern]]] = {}
        self._matches: dict[str, tuple[Subscription, ...]] = {}

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe(self, session: Session, msg: wamp.Subscribe, raw: Raw) -> None:
        pattern = Pattern(msg.topic, msg.match or "exact")
        options = raw[2]
        persistent = options.get("persistent", False)
        if not isinstance(persistent, bool):
            raise InvalidArgument("the persistent option must be true or false")
        present = self._realm.presence.asked(pattern, options.get("presence", False))
        recover = parse_request(options.get("recover"), pattern)
        pattern = asked(pattern, options.get("filter"))
        if not validate_pattern(pattern.uri, pattern.match):
            raise InvalidUri(f"{pattern.uri!r} is not a valid URI for {pattern.match} match")
        assert session.permissions is not None
        if not session.permissions.allows("subscribe", pattern):
            raise NotAuthorized(f"not authorized to subscribe to {pattern.uri!r}")
        filter = self.filter_for(session, pattern)
        mine = self._of_session.get(session, {})
        existing = self._find(pattern, filter)
        if existing not in mine and len(mine) >= self._realm.limits.max_subscriptions_per_session:
            raise LimitExceeded("too many subscriptions for this session")
        subscription, created, added = self._join(session, pattern, filter)
        session.send(wamp.Subscribed(msg.request, subscription.id))
        self._announce(session, subscription, created, added)
        self._realm.clients.subscribed(session, pattern, persistent)
        if present:
            self._realm.presence.join(session, pattern.uri)
        if recover is not None:
            self.recovery.start(session, subscription, recover)

    def filter_for(self, session: Session, pattern: Pattern) -> Filter | None:
        """What `session` sees of `pattern`: its own filter ANDed with its token's, if any."""
        assert session.permissions is not None
        granted = session.permissions.narrowing(pattern)
        return self._filters.compile(conjoin_filters(granted, own_filter(pattern)))

    def restore(self, session: Session, pattern: Pattern) -> Subscription | None:
        """Subscribe a resuming session to what its client record held (no SUBSCRIBED: the
        subscription is listed in WELCOME); None if its token no longer allows it."""
        try:
            filter = self.filter_for(session, pattern)
        except WampError:  # a pattern now reaching a filtered topic, or a filter now too big
            return None
        subscription, created, added = self._join(session, pattern, filter)
        self._announce(session, subscription, created, added)
        return subscription

    def recover(self, session: Session, subscription: Subscription, request: Request) -> None:
        self.recovery.start(session, subscription, request)

    def _find(self, pattern: Pattern, filter: Filter | None) -> Subscription | None:
        found = self._by_pattern[pattern.match].get(pattern.uri, {})
        return found.get(None if filter is None else filter.key)

    def _join(
        self, session: Session, pattern: Pattern, filter: Filter | None
    ) -> tuple[Subscription, bool, bool]:
        subscription = self._find(pattern, filter)
        created = subscription is None
        if subscription is None:
            subscription = self._create(Pattern(pattern.uri, pattern.match), filter)
        added = not subscription.has(session)
        subscription.add(session)
        asked_for = self._of_session.setdefault(session, {}).setdefault(subscription, [])
        if pattern not in asked_for:
            asked_for.append(pattern)
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
        mine = self._of_session.get(session, {})
        if subscription is None or subscription not in mine:
            raise NoSuchSubscription(f"no subscription {msg.subscription} in this session")
        patterns = mine.pop(subscription)
        self._leave(session, subscription)
        session.send(wamp.Unsubscribed(msg.request))
        for pattern in patterns:
            self._realm.clients.unsubscribed(session, pattern)
        uri = subscription.pattern.uri
        if subscription.pattern.match == "exact" and not any(
            s.pattern.uri == uri and s.pattern.match == "exact" for s in mine
        ):
            self._realm.presence.unsubscribed(session, uri)

    def remove_session(self, session: Session) -> None:
        subscriptions = self._of_session.pop(session, {})
        # Out of every subscription first: a leaving session must get no meta events about its
        # own leaving (its GOODBYE has been answered already).
        for subscription in subscriptions:
            subscription.remove(session)
        for subscription in subscriptions:
            self._left(session, subscription)

    def _create(self, pattern: Pattern, filter: Filter | None) -> Subscription:
        subscription = Subscription(unique_id(self._by_id), pattern, filter)
        self._by_id[subscription.id] = subscription
        group = self._by_pattern[pattern.match].setdefault(pattern.uri, {})
        group[None if filter is None else filter.key] = subscription
        self._matches.clear()
        if pattern.match == "exact":
            self._streams.follow(pattern.uri)  # where its subscribers stand when they leave
        return subscription

    def _leave(self, session: Session, subscription: Subscription) -> None:
        subscription.remove(session)
        self._left(session, subscription)

    def _left(self, session: Session, subscription: Subscription) -> None:
        self._realm.meta.on_unsubscribe(session, subscription)
        if not subscription.members:
            del self._by_id[subscription.id]
            self._forget(subscription)
            self._matches.clear()
            self._realm.meta.on_subscription_deleted(session, subscription)

    def _forget(self, subscription: Subscription) -> None:
        pattern, filter = subscription.pattern, subscription.filter
        group = self._by_pattern[pattern.match][pattern.uri]
        del group[None if filter is None else filter.key]
        if not group:
            del self._by_pattern[pattern.match][pattern.uri]

    # -- lookups (also used by the meta API) -----------------------------------------------

    def subscriptions_of(self, session: Session) -> list[Subscription]:
        return sorted(self._of_session.get(session, ()), key=lambda s: s.id)

    def asked_by(self, session: Session) -> list[tuple[Subscription, Pattern]]:
        """`session`'s subscriptions, each with a pattern and own filter it asked for."""
        held = sorted(self._of_session.get(session, {}).items(), key=lambda i: i[0].id)
        return [(subscription, p) for subscription, patterns in held for p in patterns]

    def all(self) -> list[Subscription]:
        return list(self._by_id.values())

    def get(self, subscription_id: int) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def lookup(self, pattern: Pattern) -> Subscription | None:
        """The subscription without a filter on `pattern` (the WAMP meta API's lookup)."""
        return self._find(pattern, None)

    def ids(self) -> dict[str, list[int]]:
        return {
            match: [s.id for group in subs.values() for s in group.values()]
            for match, subs in self._by_pattern.items()
        }

    def matching(self, topic: str) -> tuple[Subscription, ...]:
        found = self._matches.get(topic)
        if found is None:
            found = self._match(topic)
            if len(self._matches) >= _MATCH_CACHE_SIZE:
                self._matches.clear()
            self._matches[topic] = found
        return found

    def _match(self, topic: str) -> tuple[Subscription, ...]:
        found: list[Subscription] = [*self._by_pattern["exact"].get(topic, {}).values()]
        for p, group in self._by_pattern["prefix"].items():
            if topic.startswith(p):
                found.extend(group.values())
        wildcards = self._by_pattern["wildcard"]
        if wildcards:
            components = topic.split(".")
            for p, group in wildcards.items():
                if wildcard_matches(p.split("."), components):
                    found.extend(group.values())
        return tuple(found)

    # -- publications ----------------------------------------------------------------------

    def publish(self, publisher: Session, msg: wamp.Publish, raw: Raw) -> None:
        """PUBLISH from a session: checked here, then the one publication path."""
        topic = msg.topic
        if not validate_pattern(topic, "exact"):
            raise InvalidUri(f"{topic!r} is not a valid topic URI")
        if topic.startswith(RESERVED):
            raise NotAuthorized("topics under 'wamp.' are reserved for the router")
        if topic.startswith(f"{PRESENCE_TOPIC_PREFIX}."):
            raise NotAuthorized(f"topics under '{PRESENCE_TOPIC_PREFIX}.' are the router's")
        assert publisher.permissions is not None
        if not publisher.permissions.allows("publish", Pattern(topic)):
            raise NotAuthorized(f"not authorized to publish to {topic!r}")
        try:
            check_portable(msg.args)
            check_portable(msg.kwargs, "keyword arguments")
        except NotPortable as e:
            raise InvalidArgument(f"the publication cannot be delivered: {e}") from None
        draft = Draft(topic, msg.args, msg.kwargs, publisher_of(publisher, msg, raw[2]))
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
        tally = self.tally
        admitted = self._admitting(subscriptions, entry.draft)
        if len(admitted) == 1:
            message = event_message(admitted[0], entry)
            _fan_out(admitted[0], lambda codec: codec.frame_raw(message), accepts, excluded, tally)
        else:
            # Subscriptions of one match kind get the same EVENT but for its subscription id:
            # serialized once per codec and kind, the id spliced in per subscription.
            shared: dict[tuple[Codec, bool], EventFrames] = {}
            for subscription in admitted:
                frame_of = _shared_frame(shared, subscription, entry)
                _fan_out(subscription, frame_of, accepts, excluded, tally)
        tally.delivered(entry.time)

    def _admitting(
        self, subscriptions: tuple[Subscription, ...], draft: Draft
    ) -> list[Subscription]:
        """The subscriptions whose filter lets `draft` through: each distinct filter runs once."""
        passed: dict[str, bool] = {}
        read = None
        admitted = []
        for subscription in subscriptions:
            filter = subscription.filter
            if filter is not None:
                verdict = passed.get(filter.key)
                if verdict is None:
                    read = read or document(draft)
                    verdict = passed[filter.key] = filter.test(read)
                    self.filter_evaluations += 1
                if not verdict:
                    continue
            admitted.append(subscription)
        return admitted

    def publish_meta(self, topic: str, args: list[Any]) -> None:
        """A meta event (`wamp.*`): delivered now, without a position or history."""
        subscriptions = self.matching(topic)
        if not subscriptions:
            return
        publication = publication_id()
        self.delivering = None  # held by a recovering session: not a publication it replays
        for subscription in self._admitting(subscriptions, Draft(topic, args)):
            details = {} if subscription.pattern.match == "exact" else {"topic": topic}
            message = [wamp.Event.MESSAGE_TYPE, subscription.id, publication, details, args]
            _fan_out(subscription, partial(Codec.frame_raw, message=message), None, None)


def _shared_frame(
    shared: dict[tuple[Codec, bool], EventFrames], subscription: Subscription, entry: Entry
) -> Callable[[Codec], bytes]:
    exact = subscription.pattern.match == "exact"

    def frame_of(codec: Codec) -> bytes:
        frames = shared.get((codec, exact))
        if frames is None:
            message = event_message(subscription, entry)
            frames = shared[(codec, exact)] = codec.event_frames(message)
        return frames.frame(subscription.id)

    return frame_of


def _fan_out(
    subscription: Subscription,
    frame_of: Callable[[Codec], bytes],
    accepts: Callable[[Session], bool] | None,
    excluded: Session | None,
    tally: DeliveryTally | None = None,
) -> None:
    # A publication's writes are counted per codec group, never per write.
    for codec, group in subscription.members.items():
        frame = frame_of(codec)
        if accepts is None:
            for session, send in group.items():
                if session is not excluded:
                    send(frame)
            written = len(group) - (excluded in group)
        else:
            written = 0
            for session, send in group.items():
                if accepts(session) and session is not excluded:
                    send(frame)
                    written += 1
        if tally is not None:
            tally.written(codec.name, frame, written)
            subscription.deliveries += written
    if tally is not None:
        subscription.publications += 1
