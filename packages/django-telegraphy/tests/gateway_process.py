"""The demo's `run_telegraph` as a subprocess, for the tests that need a real gateway."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from gateway_command import Outcome, serving_gateway

DEMO = Path(__file__).resolve().parents[3] / "examples" / "django_demo"


def run_telegraph(
    port: int, tmp_path: Path, env: Mapping[str, str] = {}, args: tuple[str, ...] = ()
) -> AbstractContextManager[Outcome]:
    """Start `manage.py run_telegraph` on `port`, wait for /health, stop it with SIGINT."""
    return serving_gateway(
        [sys.executable, "manage.py", "run_telegraph", *args],
        port,
        cwd=DEMO,
        env={
            "TELEGRAPHY_DEMO_GATEWAY_PORT": str(port),
            "DJANGO_DEMO_DB": str(tmp_path / "db.sqlite3"),
            "TELEGRAPHY_DEMO_ENGINE": str(tmp_path / "telegraphy-gateway.sqlite3"),
            **env,
        },
    )
