"""The outbox's promises with real processes, for Django and Flask, on SQLite and on a real
PostgreSQL server: a web process killed right after COMMIT, a rollback, two relays racing.
The sites are the adapters' own test apps (outbox_site.py, flask_outbox_site.py); the
scenarios are in outbox_harness.py."""

from __future__ import annotations

from pathlib import Path

import outbox_harness as scenarios
import pytest
import pytest_twisted
from outbox_harness import Site

from gateway_harness import GatewayProcess

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
SITES = {
    "django": (
        PACKAGES / "django-telegraphy" / "tests",
        ["outbox_site.py"],
        "telegraphy_demo.MyModel",
        ["telegraphy_relay"],
        ["migrate", "-v", "0"],
    ),
    "flask": (
        PACKAGES / "flask-telegraphy" / "tests",
        ["flask_outbox_site.py"],
        "outbox_site.Note",
        ["telegraphy", "relay"],
        ["migrate"],
    ),
}
postgres = scenarios.postgres_fixture
gateway = scenarios.gateway_fixture


@pytest.fixture(params=["django", "flask"])
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, framework: str, tmp_path: Path, gateway: GatewayProcess
) -> Site:
    cwd, script, event, relay, migrate = SITES[framework]
    site = Site(script, event, relay, scenarios.database(request, tmp_path), gateway.port, cwd)
    site.run(*migrate)
    return site


@pytest_twisted.ensureDeferred
async def test_a_web_process_killed_right_after_commit_loses_nothing(
    site: Site, gateway: GatewayProcess
) -> None:
    await scenarios.killed_right_after_commit_loses_nothing(site, gateway)


@pytest_twisted.ensureDeferred
async def test_a_rolled_back_transaction_sends_nothing(site: Site, gateway: GatewayProcess) -> None:
    await scenarios.rolled_back_sends_nothing(site, gateway)


@pytest_twisted.ensureDeferred
async def test_two_relays_racing_deliver_every_row_once_in_order(
    site: Site, gateway: GatewayProcess
) -> None:
    await scenarios.racing_relays_deliver_every_row_once_in_order(site, gateway)
