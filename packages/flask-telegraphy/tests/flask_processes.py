"""The demo's `flask telegraphy run` as a subprocess, for the tests that need a real gateway."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from gateway_command import Outcome, serving_gateway

DEMO = Path(__file__).resolve().parents[3] / "examples" / "flask_demo"


def flask_telegraphy_run(
    port: int, tmp_path: Path, env: Mapping[str, str] = {}, args: tuple[str, ...] = ()
) -> AbstractContextManager[Outcome]:
    """Start the demo's `flask telegraphy run` on `port`, wait for /health, stop it (SIGINT)."""
    return serving_gateway(
        [sys.executable, "-m", "flask", "--app", "flask_demo", "telegraphy", "run", *args],
        port,
        cwd=DEMO,
        env={
            "FLASK_DEMO_GATEWAY_PORT": str(port),
            "FLASK_DEMO_DB": str(tmp_path / "gateway.sqlite3"),
            "FLASK_DEMO_ENGINE": str(tmp_path / "telegraphy-gateway.sqlite3"),
            **env,
        },
    )
