"""`flask telegraphy check` against a real gateway: what passes, and each failure's fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask_processes import flask_telegraphy_run
from flask_support import SECRET, make_app

from gateway_command import free_port


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The demo's `flask telegraphy run`, sharing the tests' secret."""
    port = free_port()
    tmp_path = tmp_path_factory.mktemp("gateway")
    with flask_telegraphy_run(port, tmp_path, {"TELEGRAPHY_SECRET": SECRET}):
        yield port


def check(**config: Any) -> tuple[int, str]:
    result = make_app(**config).test_cli_runner().invoke(args=["telegraphy", "check"])
    return result.exit_code, result.output


def test_a_working_setup_passes_every_check(gateway: int) -> None:
    url = f"http://127.0.0.1:{gateway}"
    status, out = check(TELEGRAPHY_GATEWAY_URL=url)
    assert (status, out.splitlines()) == (
        0,
        [
            f"ok    secret: set ({len(SECRET)} characters)",
            "ok    public patterns: 0 valid",
            f"ok    gateway: {url}/health answers",
            "ok    signed request: POST /ingress/token accepted with this secret",
            "Telegraphy is set up.",
        ],
    )


def test_another_secret_than_the_gateways_fails_the_signed_request(gateway: int) -> None:
    status, out = check(
        TELEGRAPHY_GATEWAY_URL=f"http://127.0.0.1:{gateway}",
        TELEGRAPHY_SECRET="another-secret-0123456789",
    )
    assert status == 1
    assert "FAIL  signed request: refused with HTTP 401 bad_signature" in out
    assert "fix: the web app's secret differs from the gateway's: make them equal" in out
    assert "Error: Telegraphy is not set up: signed request (see above)" in out


def test_a_gateway_url_where_nothing_answers_says_to_start_the_gateway() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status, out = check(TELEGRAPHY_GATEWAY_URL=url)
    assert status == 1
    assert f"FAIL  gateway: {url}/health does not answer" in out
    assert "fix: start the gateway, or set TELEGRAPHY_GATEWAY_URL" in out
    assert "signed request" not in out  # not tried without a gateway


def test_an_invalid_public_pattern_is_named(gateway: int) -> None:
    bad = {"uri": "telegraphy.event.has space", "match": "exact"}
    status, out = check(
        TELEGRAPHY_GATEWAY_URL=f"http://127.0.0.1:{gateway}", TELEGRAPHY_GATEWAY={"public": [bad]}
    )
    assert status == 1
    assert f"FAIL  public patterns: {bad!r} is not a valid topic pattern" in out
