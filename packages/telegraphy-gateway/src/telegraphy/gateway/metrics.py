"""Prometheus metrics (docs/operations.rst lists them): counters bumped where things happen
(never per subscriber), and the router's state read only when /metrics is scraped."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .router.tally import DeliveryTally
    from .server import Gateway

ENDPOINTS = ("ws", "health", "ready", "ingress", "metrics", "stats")
"""The first path segments counted by name; any other is counted as "other" (so a scanner
cannot grow the number of series)."""


class Metrics:
    """One gateway's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.ingress_events = 0  # events of the ingress requests handed to the router
        self.refusals = Counter(
            "telegraphy_refusals",
            "Connections, requests and sessions refused by a limit or bound, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "telegraphy_http_requests",
            "HTTP requests answered, by endpoint (first path segment) and status code.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.ingress_write_seconds = Histogram(
            "telegraphy_ingress_write_seconds",
            "Seconds from an ingress request's events handed to the engine to their being kept "
            "in history (the engine's write latency, as the ingress sees it).",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()

    def answered(self, path: bytes, status: int) -> None:
        segment = path.split(b"?", 1)[0].split(b"/", 2)[1:2]
        name = segment[0].decode("ascii", "replace") if segment else ""
        endpoint = name if name in ENDPOINTS else "other"
        self.http_requests.labels(endpoint, str(status)).inc()

    def watch(self, gateway: Gateway) -> None:
        """Read `gateway`'s state at each scrape."""
        self.registry.register(_GatewayState(gateway, self))


class _GatewayState(Collector):
    def __init__(self, gateway: Gateway, metrics: Metrics) -> None:
        self._gateway = gateway
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        gateway = self._gateway
        realm = gateway.realm
        sessions = GaugeMetricFamily(
            "telegraphy_sessions", "Sessions joined to the realm, by authrole.", labels=["authrole"]
        )
        for role, count in sorted(Tally(s.authrole for s in realm.sessions.values()).items()):
            sessions.add_metric([role], count)
        yield sessions
        subscriptions = GaugeMetricFamily(
            "telegraphy_subscriptions",
            "Subscriptions (one per topic pattern and filter, whatever its subscribers), by match.",
            labels=["match"],
        )
        for match, ids in sorted(realm.broker.ids().items()):
            subscriptions.add_metric([match], len(ids))
        yield subscriptions
        websocket = gateway.websocket
        publications = CounterMetricFamily(
            "telegraphy_publications_received",
            "Publications received for routing, by path (ingress: events of signed ingress "
            "requests; wamp: PUBLISH messages).",
            labels=["path"],
        )
        publications.add_metric(["ingress"], self._metrics.ingress_events)
        publications.add_metric(["wamp"], websocket.publications_received)
        yield publications
        yield from _deliveries(realm.broker.tally)
        yield GaugeMetricFamily(
            "telegraphy_websocket_connections",
            "Open WebSocket connections.",
            value=len(websocket.connections),
        )
        yield CounterMetricFamily(
            "telegraphy_messages_sent",
            "WAMP messages written to clients (EVENTs, answers, meta events).",
            value=websocket.sent(),
        )
        yield CounterMetricFamily(
            "telegraphy_slow_consumers_cut",
            "Sessions closed because they read slower than max_output_buffer allows.",
            value=websocket.slow_consumers_cut,
        )
        yield GaugeMetricFamily(
            "telegraphy_presence_members",
            "Channel members held by this gateway's sessions (a leave delay running included).",
            value=realm.presence.held(),
        )
        webhooks = CounterMetricFamily(
            "telegraphy_presence_webhooks",
            "Presence webhook events, by outcome (delivered, or dropped after the attempts or "
            "with the queue full).",
            labels=["outcome"],
        )
        sent = realm.presence.webhooks
        webhooks.add_metric(["delivered"], sent.delivered if sent else 0)
        webhooks.add_metric(["dropped"], sent.dropped if sent else 0)
        yield webhooks
        yield GaugeMetricFamily(
            "telegraphy_ready",
            "1 while /ready answers 200 (accepting, engine able to keep publications), else 0.",
            value=0 if gateway.readiness() else 1,
        )


def _deliveries(tally: DeliveryTally) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "telegraphy_events_delivered",
        "EVENTs of publications written to subscribers (one per subscriber reached; replays "
        "are counted by telegraphy_recovered_events).",
        value=tally.deliveries,
    )
    sent = CounterMetricFamily(
        "telegraphy_event_bytes_sent",
        "Bytes of the WebSocket frames of those EVENTs, by serializer.",
        labels=["serializer"],
    )
    for serializer, count in sorted(tally.bytes_out.items()):
        sent.add_metric([serializer], count)
    yield sent
    yield HistogramMetricFamily(
        "telegraphy_delivery_latency_seconds",
        "Seconds from a publication accepted (given its position) to its EVENT frames all "
        "sent to the subscribers' sockets (or queued behind what a socket could not take yet), "
        "per publication with subscribers.",
        buckets=tally.latency_buckets(),
        sum_value=tally.latency_sum,
    )
    yield CounterMetricFamily(
        "telegraphy_recoveries",
        "Recovery requests answered (one per subscription asking to recover).",
        value=tally.recoveries,
    )
    yield CounterMetricFamily(
        "telegraphy_recovered_events",
        "Events replayed from history to recovering subscribers.",
        value=tally.recovered,
    )
    gaps = CounterMetricFamily(
        "telegraphy_recovery_gaps",
        "Topics a recovering subscriber could not be given in full, by reason (too_old, "
        "too_many, epoch_changed, invalid_position, unavailable).",
        labels=["reason"],
    )
    for reason, count in sorted(tally.gaps.items()):
        gaps.add_metric([reason], count)
    yield gaps
