"""GET /metrics: Prometheus text (read here with the Prometheus parser) whose values move as
sessions join, events flow and limits refuse; readable only from `[metrics] allow` or with
the bearer token."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.types import PublishOptions
from ingress_posts import event, post
from prometheus_client.parser import text_string_to_metric_families
from raw_socket import connect, read_to_end
from ticket_peers import SECRET

from conftest import BACKEND_ID, BACKEND_SECRET, config_with_limits, module_gateway, start_gateway
from gateway_harness import GatewayProcess, Inbox, join, left
from raw_wamp import JSON, MSGPACK, SUBSCRIBE, SUBSCRIBED, WampPeer, raw_join
from telegraphy.gateway import ConfigError, config_from_mapping, load_config

TOKEN = "metrics-token-0123456789abcdef"

gateway = module_gateway(f'secret = "{SECRET}"\n' + config_with_limits())

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int, headers: dict[str, str] | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics", headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def samples(port: int) -> Samples:
    status, text = scrape(port)
    assert status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest_twisted.ensureDeferred
async def test_metrics_move_as_sessions_join_and_events_flow(gateway: GatewayProcess) -> None:
    before = samples(gateway.port)
    session = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    inbox = Inbox()
    await session.subscribe(inbox, "telegraphy.event.shop.Order")
    await session.publish(
        "telegraphy.event.shop.Order",
        "wamp",
        options=PublishOptions(acknowledge=True, exclude_me=False),
    )
    await inbox.next()
    assert post(gateway.port, "/ingress/event", event(1))[0] == 200
    assert post(gateway.port, "/ingress/event", event(2))[0] == 200
    for _ in range(2):
        await inbox.next()

    during = samples(gateway.port)
    assert value(during, "telegraphy_sessions", authrole="backend") == 1
    assert value(during, "telegraphy_subscriptions", match="exact") >= 1
    assert value(during, "telegraphy_websocket_connections") >= 1
    received = "telegraphy_publications_received_total"
    assert value(during, received, path="wamp") - value(before, received, path="wamp") == 1
    assert value(during, received, path="ingress") - value(before, received, path="ingress") == 2
    # WELCOME, SUBSCRIBED, PUBLISHED and three EVENTs at least.
    sent = "telegraphy_messages_sent_total"
    assert value(during, sent) - value(before, sent) >= 6
    written = "telegraphy_ingress_write_seconds_count"
    assert value(during, written) - value(before, written) == 2
    answered = "telegraphy_http_requests_total"
    assert value(during, answered, endpoint="ingress", status="200") >= 2
    assert value(during, "telegraphy_ready") == 1

    session.leave()
    await left(session)
    after = samples(gateway.port)
    assert value(after, "telegraphy_sessions", authrole="backend") == 0
    assert value(after, sent) >= value(during, sent)  # a closed connection's count is kept


DELIVERED_TOPIC = "telegraphy.event.metrics.Delivered"


def frame_size(payload: str | bytes) -> int:
    """The bytes of the unmasked WebSocket frame that carried `payload` (under 64 KiB)."""
    size = len(payload.encode() if isinstance(payload, str) else payload)
    return size + (2 if size < 126 else 4)


async def subscribed(url: str, protocol: str, options: dict[str, Any] | None = None) -> WampPeer:
    peer = await raw_join(url, backend=True, protocol=protocol)
    answer = await peer.request(SUBSCRIBE, 1, options or {}, DELIVERED_TOPIC)
    assert answer[0] == SUBSCRIBED, answer
    return peer


@pytest_twisted.ensureDeferred
async def test_deliveries_bytes_latency_and_recoveries_are_counted(
    gateway: GatewayProcess,
) -> None:
    before = samples(gateway.port)
    peers = {
        JSON: await subscribed(gateway.url, JSON),
        MSGPACK: await subscribed(gateway.url, MSGPACK),
    }
    for n in range(3):
        assert post(gateway.port, "/ingress/event", event(n, "metrics.Delivered"))[0] == 200
    sizes = {protocol: 0 for protocol in peers}
    epoch = ""
    for protocol, peer in peers.items():
        for _ in range(3):
            payload = await peer.raw.receive()
            sizes[protocol] += frame_size(payload)
            if protocol == JSON:
                epoch = json.loads(payload)[3]["epoch"]
    recovering = {"positions": {DELIVERED_TOPIC: {"offset": 1, "epoch": "not-the-epoch"}}}
    gap = await subscribed(gateway.url, JSON, {"recover": recovering})
    assert (await gap.receive())[3]["recovery"][0]["gap"] == "epoch_changed"
    position = {"offset": 0, "epoch": epoch}
    replay = await subscribed(
        gateway.url, JSON, {"recover": {"positions": {DELIVERED_TOPIC: position}}}
    )
    replayed = [await replay.receive() for _ in range(4)]
    assert replayed[3][3]["recovery"][0]["recovered"] == 3

    after = samples(gateway.port)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("telegraphy_events_delivered_total") == 6
    assert moved("telegraphy_event_bytes_sent_total", serializer="json") == sizes[JSON]
    assert moved("telegraphy_event_bytes_sent_total", serializer="msgpack") == sizes[MSGPACK]
    assert moved("telegraphy_delivery_latency_seconds_count") == 3
    assert moved("telegraphy_delivery_latency_seconds_bucket", le="+Inf") == 3
    assert 0 < moved("telegraphy_delivery_latency_seconds_sum") < 3 * 2.5
    assert moved("telegraphy_recoveries_total") == 2
    assert moved("telegraphy_recovered_events_total") == 3
    assert moved("telegraphy_recovery_gaps_total", reason="epoch_changed") == 1
    assert moved("telegraphy_recovery_gaps_total", reason="too_old") == 0
    for peer in (*peers.values(), gap, replay):
        await peer.leave()


def test_refusals_are_counted_by_reason(gateway: GatewayProcess) -> None:
    before = value(samples(gateway.port), "telegraphy_refusals_total", reason="too_large")
    with connect(gateway.port) as sock:
        sock.sendall(b"POST /ingress/event HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
        assert read_to_end(sock).startswith(b"HTTP/1.1 413 ")
    after = value(samples(gateway.port), "telegraphy_refusals_total", reason="too_large")
    assert after - before == 1


def test_unknown_paths_are_counted_as_other(gateway: GatewayProcess) -> None:
    with connect(gateway.port) as sock:
        sock.sendall(b"GET /no/such/thing HTTP/1.1\r\nConnection: close\r\n\r\n")
        read_to_end(sock)
    found = samples(gateway.port)
    assert value(found, "telegraphy_http_requests_total", endpoint="other", status="404") >= 1
    assert not any("no" in dict(labels).get("endpoint", "") for _, labels in found)


def test_metrics_need_an_allowed_address_or_the_token(tmp_path: Path) -> None:
    config = config_with_limits() + f'\n[metrics]\nallow = ["10.0.0.0/8"]\ntoken = "{TOKEN}"\n'
    process = start_gateway(tmp_path, config)
    try:
        refused, body = scrape(process.port)
        wrong, _ = scrape(process.port, {"Authorization": "Bearer not-the-token"})
        allowed, text = scrape(process.port, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        process.stop()
    assert (refused, wrong, allowed) == (401, 401, 200), body
    assert "telegraphy_sessions" in text


def test_without_a_token_other_addresses_get_403(tmp_path: Path) -> None:
    process = start_gateway(tmp_path, config_with_limits() + '\n[metrics]\nallow = ["10.0.0.1"]\n')
    try:
        status, _ = scrape(process.port, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        process.stop()
    assert status == 403


DOCS = Path(__file__).parents[3] / "docs"


def documented_metrics() -> set[str]:
    text = (DOCS / "operations.rst").read_text()
    return set(re.findall(r"^   \* - ``(telegraphy_[a-z_]+)", text, re.MULTILINE))


def test_every_metric_is_documented_and_the_dashboard_uses_documented_ones(
    gateway: GatewayProcess,
) -> None:
    status, text = scrape(gateway.port)
    assert status == 200
    families = text_string_to_metric_families(text)
    exposed = {f.name for f in families if not f.name.endswith("_created")}
    documented = {name.removesuffix("_total") for name in documented_metrics()}
    assert exposed == documented
    dashboard = json.loads((DOCS / "_static" / "grafana-dashboard.json").read_text())
    used = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"telegraphy_[a-z_]+", target["expr"])
    }
    assert used <= documented, used - documented


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"metrics": {"token": "short"}}, "metrics.token must be a string of at least 16"),
        ({"metrics": {"allow": ["everyone"]}}, "metrics.allow: 'everyone' is not an IP address"),
        ({"metrics": {"port": 9100}}, "unknown key(s) port at [metrics]"),
    ],
)
def test_bad_metrics_configuration_says_what_to_fix(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_mapping(data)
    assert message in str(raised.value)


def test_the_metrics_token_may_come_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "gateway.toml").write_text("")
    config = load_config(tmp_path / "gateway.toml", {"TELEGRAPHY_METRICS_TOKEN": TOKEN})
    assert config.metrics.token == TOKEN
    assert TOKEN not in repr(config)
    with pytest.raises(ConfigError, match="TELEGRAPHY_METRICS_TOKEN must be a string of at"):
        load_config(None, {"TELEGRAPHY_METRICS_TOKEN": "short"})
