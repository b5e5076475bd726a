"""`GET /stats`: a running gateway's counters and busiest subscriptions as one JSON object, for
`telegraphy-gateway status` (which reads it twice and prints the rates between the two)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .router.subscription import Subscription
    from .server import Gateway

DEFAULT_TOPICS = 20
MAX_TOPICS = 1000


def stats(gateway: Gateway, topics: int = DEFAULT_TOPICS) -> dict[str, Any]:
    """The counters (totals since start, never reset) and the `topics` subscriptions that
    delivered the most events, with how many sessions each has."""
    broker = gateway.realm.broker
    tally = broker.tally
    subscriptions = broker.all()
    busiest = sorted(subscriptions, key=lambda s: (-s.deliveries, s.pattern.uri))
    return {
        "time": time.time(),
        "sessions": len(gateway.realm.sessions),
        "publications_received": {
            "ingress": gateway.metrics.ingress_events,
            "wamp": gateway.websocket.publications_received,
        },
        "publications_delivered": sum(tally.latency_counts),
        "events_delivered": tally.deliveries,
        "subscriptions": len(subscriptions),
        "topics": [_topic(s) for s in busiest[: max(0, min(topics, MAX_TOPICS))]],
    }


def _topic(subscription: Subscription) -> dict[str, Any]:
    return {
        "uri": subscription.pattern.uri,
        "match": subscription.pattern.match,
        "filtered": subscription.filter is not None,
        "sessions": sum(len(group) for group in subscription.members.values()),
        "publications": subscription.publications,
        "events_delivered": subscription.deliveries,
    }
