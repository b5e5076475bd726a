"""Bulk operations' events reach a real gateway's subscriber, through the outbox, on SQLite and
on a real PostgreSQL server (where the rows an UPDATE or DELETE changes are locked as they are
selected), and a customer's token filter lets through her own rows only: the Django shop
(packages/django-telegraphy/tests/bulk_site.py) and the Flask one (flask_bulk_site.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import outbox_harness as scenarios
import pytest
import pytest_twisted
from outbox_harness import WAIT, Site
from twisted.internet import threads

from conftest import BACKEND_ID, BACKEND_SECRET
from gateway_harness import GatewayProcess, Inbox, join
from telegraphy.core import F, Grants, event_topic, mint_token, validate_envelope

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
SITES = {
    "django": (
        PACKAGES / "django-telegraphy" / "tests",
        ["bulk_site.py"],
        ["telegraphy_relay"],
        ["migrate", "--run-syncdb", "-v", "0"],
    ),
    "flask": (
        PACKAGES / "flask-telegraphy" / "tests",
        ["flask_bulk_site.py"],
        ["telegraphy", "relay"],
        ["migrate"],
    ),
}
# What bulk_scenario() sends, in order: (event, event_type, customer or rows in the batch).
EXPECTED = [
    ("shop.Order", "create", "ann"),
    ("shop.Order", "create", "bob"),
    ("shop.Order", "create", "cy"),
    ("shop.Order", "update", "ann"),
    ("shop.Order", "update", "bob"),
    ("shop.Order", "update", "ann"),
    ("shop.Order", "update", "bob"),
    ("shop.Order", "update", "cy"),
    ("shop.Line", "create", 5),
    ("shop.Order", "delete", "cy"),
    ("shop.Order", "delete", "ann"),
    ("shop.Line", "delete", 5),
]
# Django deletes an order's lines by cascade, and sends their batch once the order's delete is
# done; the Flask shop deletes the lines itself, first.
EXPECTED_BY_FRAMEWORK = {"django": EXPECTED, "flask": [*EXPECTED[:-2], EXPECTED[-1], EXPECTED[-2]]}
postgres = scenarios.postgres_fixture
gateway = scenarios.gateway_fixture


@pytest.fixture(params=sorted(SITES))
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, framework: str, tmp_path: Path, gateway: GatewayProcess
) -> Site:
    cwd, script, relay, migrate = SITES[framework]
    where = scenarios.database(request, tmp_path)
    site = Site(script, "shop.Order", relay, where, gateway.port, cwd)
    site.run(*migrate)
    return site


def summary(envelope: dict[str, Any]) -> tuple[str, str, Any]:
    validate_envelope(envelope)
    data, meta = envelope["data"], envelope["meta"]
    return envelope["name"], meta["event_type"], meta.get("batch", data.get("customer"))


@pytest_twisted.ensureDeferred
async def test_bulk_operations_reach_a_subscriber_once_committed(
    site: Site, gateway: GatewayProcess, framework: str
) -> None:
    expected = EXPECTED_BY_FRAMEWORK[framework]
    subscriber = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    inbox = Inbox()
    for name in ("shop.Order", "shop.Line"):
        await subscriber.subscribe(inbox, event_topic(name))
    # A customer whose token lets through her own orders only, as for single-row events.
    own = Grants(("shop.Order",), filters={"shop.Order": F(customer="ann")})
    ann = await join(gateway.url, ticket=mint_token(scenarios.SECRET, "ann", own))
    anns = Inbox()
    await ann.subscribe(anns, event_topic("shop.Order"))
    await threads.deferToThread(site.run, "bulk")
    await threads.deferToThread(site.run, *site.relay, "--until-empty")
    received = []
    for _ in expected:
        args, _ = await inbox.next(WAIT)
        received.append(summary(args[0]))
    assert received == expected
    assert inbox.pending == 0
    hers = [e for e in expected if e[0] == "shop.Order" and e[2] == "ann"]
    assert [summary((await anns.next(WAIT))[0][0]) for _ in hers] == hers
    assert anns.pending == 0  # her last event is the topic's last: nothing else came before
