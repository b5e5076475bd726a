"""The `telegraphy-gateway` command: options, errors at start, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from conftest import free_port, start_gateway
from telegraphy.gateway import __version__

GATEWAY = [sys.executable, "-m", "telegraphy.gateway"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # In an empty directory: the SQLite engine's file goes there, not into the repository.
    with tempfile.TemporaryDirectory() as cwd:
        command = [*GATEWAY, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=cwd)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"telegraphy-gateway {__version__}"


def test_bad_configuration_stops_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text('realm = "x"\n[[backends]]\nauthid = "web"\nsecret = "short"\n')
    result = run("--config", str(path))
    assert result.returncode == 2
    assert "configuration error" in result.stderr
    assert "backends[0].secret is too short" in result.stderr


def test_an_engine_file_that_cannot_be_opened_stops_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text(f'[engine]\npath = "{tmp_path / "missing" / "dir" / "t.sqlite3"}"\n')
    result = run("--config", str(path), "--port", "0")
    assert result.returncode == 2, result.stderr
    assert "configuration error: [engine] cannot open SQLite file" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_value_stops_with_a_message() -> None:
    result = run("--realm", "not a uri")
    assert result.returncode == 2 and "realm must be a WAMP URI" in result.stderr


def test_port_in_use_stops_with_a_message(tmp_path: Path) -> None:
    first = start_gateway(tmp_path, "")
    try:
        result = run("--port", str(first.port))
        assert result.returncode == 1 and "cannot listen" in result.stderr
    finally:
        first.stop()


def test_options_override_the_file_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, 'realm = "from.file"\n', ("--realm", "from.cli"))
    with urllib.request.urlopen(f"{gateway.http_url}/health", timeout=5) as response:
        status = json.load(response)
    assert status["status"] == "ok" and status["realm"] == "from.cli"
    assert gateway.stop() == 0
    assert "telegraphy-gateway stopped" in gateway.output_after_stop


def test_listens_with_a_deep_accept_queue(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, "")
    try:
        listing = subprocess.run(
            ["ss", "-Hltn", f"sport = :{gateway.port}"], capture_output=True, text=True, check=True
        ).stdout.split()
        assert listing[0] == "LISTEN" and int(listing[2]) == 1024  # Send-Q: the backlog
    finally:
        gateway.stop()


def test_runs_without_a_configuration_file(tmp_path: Path) -> None:
    port = free_port()
    with subprocess.Popen(
        [*GATEWAY, "--port", str(port), "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    ) as process:
        try:
            assert process.stdout is not None
            first = json.loads(process.stdout.readline())
            assert "log_namespace" in first
        finally:
            process.terminate()
            assert process.wait(timeout=15) == 0
