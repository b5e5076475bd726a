"""manage.py telegraphy_check against a real gateway: what passes, and each failure's fix."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from gateway_process import DEMO, run_telegraph

from gateway_command import free_port

SECRET = settings.TELEGRAPHY["SECRET"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The demo's run_telegraph, sharing the tests' secret."""
    port = free_port()
    tmp_path = tmp_path_factory.mktemp("gateway")
    with run_telegraph(port, tmp_path, {"TELEGRAPHY_SECRET": SECRET}, ("--log-level", "warn")):
        yield port


def check(**telegraphy: Any) -> tuple[str, str | None]:
    """The command's output, and its CommandError's message (None: it passed)."""
    out = io.StringIO()
    with override_settings(TELEGRAPHY={**settings.TELEGRAPHY, **telegraphy}):
        try:
            call_command("telegraphy_check", "--timeout", "5", stdout=out)
        except CommandError as e:
            return out.getvalue(), str(e)
    return out.getvalue(), None


def test_a_working_setup_passes_every_check(gateway: int) -> None:
    url = f"http://127.0.0.1:{gateway}"
    out, error = check(GATEWAY_URL=url)
    assert error is None, out
    assert out.splitlines() == [
        f"ok    secret: set ({len(SECRET)} characters)",
        "ok    public patterns: 1 valid",
        f"ok    gateway: {url}/health answers",
        "ok    signed request: POST /ingress/token accepted with this secret",
        "Telegraphy is set up.",
    ]


def test_another_secret_than_the_gateways_fails_the_signed_request(gateway: int) -> None:
    out, error = check(
        GATEWAY_URL=f"http://127.0.0.1:{gateway}", SECRET="another-secret-0123456789"
    )
    assert error == "Telegraphy is not set up: signed request (see above)"
    assert "FAIL  signed request: refused with HTTP 401 bad_signature" in out
    assert "fix: the web app's secret differs from the gateway's: make them equal" in out


def test_a_gateway_url_where_nothing_answers_says_to_start_the_gateway() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out, error = check(GATEWAY_URL=url)
    assert error == "Telegraphy is not set up: gateway (see above)"
    assert f"FAIL  gateway: {url}/health does not answer" in out
    assert "fix: start the gateway, or set settings.TELEGRAPHY['GATEWAY_URL']" in out
    assert "signed request" not in out  # not tried without a gateway


def test_a_short_secret_says_how_to_make_one() -> None:
    out, error = check(SECRET="short")
    assert error == "Telegraphy is not set up: secret (see above)"
    assert "FAIL  secret: missing or too short" in out
    assert "secrets.token_urlsafe()" in out


def test_an_invalid_public_pattern_is_named(gateway: int) -> None:
    bad = {"uri": "telegraphy.event.has space", "match": "exact"}
    out, error = check(GATEWAY_URL=f"http://127.0.0.1:{gateway}", GATEWAY={"public": [bad]})
    assert error == "Telegraphy is not set up: public patterns (see above)"
    assert f"FAIL  public patterns: {bad!r} is not a valid topic pattern" in out


@pytest.mark.parametrize("answering", [True, False])
def test_the_exit_status_says_whether_the_setup_works(
    gateway: int, answering: bool, tmp_path: Path
) -> None:
    port = gateway if answering else free_port()
    env = {
        "TELEGRAPHY_SECRET": SECRET,
        "TELEGRAPHY_DEMO_GATEWAY_PORT": str(port),
        "DJANGO_DEMO_DB": str(tmp_path / "db.sqlite3"),
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "manage.py", "telegraphy_check"]
    done = subprocess.run(command, cwd=DEMO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == (0 if answering else 1), done.stdout + done.stderr
    assert ("Telegraphy is set up." in done.stdout) is answering


def test_a_gateway_url_that_is_not_the_gateways_address_is_named(gateway: int) -> None:
    url = f"http://127.0.0.1:{gateway}/not-the-gateway"
    out, error = check(GATEWAY_URL=url)
    assert error == "Telegraphy is not set up: gateway (see above)"
    assert f"FAIL  gateway: {url}/health answered HTTP 404" in out
    assert "fix: is it the gateway? start the gateway, or set" in out
