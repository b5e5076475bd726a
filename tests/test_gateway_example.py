"""examples/gateway: hello.py against a gateway run with the example configuration, as its
docstring says, and its prompt failure against a gateway without that configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway_command import free_port, serving_gateway

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gateway"
GATEWAY = [sys.executable, "-m", "telegraphy.gateway"]


def hello(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLE / "hello.py"), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_hello_says_hello_through_the_example_configuration(tmp_path: Path) -> None:
    port = free_port()
    config = ["--config", str(EXAMPLE / "telegraphy.toml"), "--port", str(port)]
    with serving_gateway([*GATEWAY, *config], port, cwd=tmp_path):
        done = hello(port)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "received: hello, world" in done.stdout


def test_hello_exits_1_without_retrying_on_a_gateway_without_that_configuration(
    tmp_path: Path,
) -> None:
    port = free_port()
    with serving_gateway([*GATEWAY, "--port", str(port)], port, cwd=tmp_path):
        done = hello(port)
    assert done.returncode == 1
    assert "cannot subscribe to telegraphy.demo.hello: wamp.error.not_authorized" in done.stdout
