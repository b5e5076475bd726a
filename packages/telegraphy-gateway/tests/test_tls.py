"""TLS served by the gateway: wss:// and https:// with the certificate and key of `[tls]`,
in one process and in a worker listening on a shared port; a bad certificate refused at start."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.types import PublishOptions
from certificates import CertificateFiles, self_signed
from twisted.internet import ssl as twisted_ssl

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG
from gateway_command import free_port
from gateway_harness import GatewayProcess, Inbox, join, left
from telegraphy.gateway import ConfigError, config_from_mapping

CAPTURE: Any = {"capture_output": True, "text": True, "timeout": 30}


def https_get(port: int, path: str, cafile: Path) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of GET https://127.0.0.1:<port><path>, trusting only `cafile`."""
    context = ssl.create_default_context(cafile=str(cafile))
    try:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}{path}", timeout=2, context=context
        ) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def start_tls_gateway(
    tmp_path: Path, files: CertificateFiles, extra_args: tuple[str, ...] = ()
) -> GatewayProcess:
    """A gateway serving TLS with `files`, once its /health answers over https."""
    path = tmp_path / "telegraphy.toml"
    path.write_text(DEFAULT_CONFIG + files.toml())
    port = free_port()
    log = open(tmp_path / "gateway.log", "w+b")  # noqa: SIM115 - closed by GatewayProcess
    command = [sys.executable, "-m", "telegraphy.gateway", "--config", str(path)]
    process = subprocess.Popen(
        [*command, "--port", str(port), *extra_args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    gateway = GatewayProcess(process, port, log)
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        try:
            https_get(port, "/health", files.certificate)
            return gateway
        except OSError:
            time.sleep(0.05)  # polling a starting process with a deadline
    gateway.stop()
    raise RuntimeError(f"no /health over https:\n{gateway.output_after_stop}")


def trusting(files: CertificateFiles) -> Any:
    """A TLS client that trusts only the test's certificate and checks it names localhost."""
    authority = twisted_ssl.Certificate.loadPEM(files.certificate.read_bytes())
    return twisted_ssl.optionsForClientTLS("localhost", trustRoot=authority)


@pytest.mark.parametrize("listening", [(), ("--worker",)], ids=["one-process", "shared-port"])
@pytest_twisted.ensureDeferred
async def test_wss_and_https_are_served_with_the_configured_certificate(
    tmp_path: Path, listening: tuple[str, ...]
) -> None:
    files = self_signed(tmp_path)
    gateway = start_tls_gateway(tmp_path, files, listening)
    try:
        assert https_get(gateway.port, "/ready", files.certificate) == (
            200,
            {"ready": True, "reasons": []},
        )
        url = f"wss://localhost:{gateway.port}/ws"
        session = await join(url, authid=BACKEND_ID, secret=BACKEND_SECRET, tls=trusting(files))
        inbox = Inbox()
        await session.subscribe(inbox, "app.tls")
        options = PublishOptions(acknowledge=True, exclude_me=False)
        await session.publish("app.tls", "over tls", options=options)
        args, _ = await inbox.next()
        assert args == ("over tls",)
        session.leave()
        await left(session)
        with pytest.raises(OSError):  # plain HTTP is not served on a TLS port
            urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/health", timeout=2)
        base = f"https://127.0.0.1:{gateway.port}"
        status = [sys.executable, "-m", "telegraphy.gateway", "status", "--url", base]
        trusted = subprocess.run([*status, "--cafile", str(files.certificate)], **CAPTURE)
        assert trusted.returncode == 0, trusted.stdout
        assert "ready:    yes" in trusted.stdout.splitlines(), trusted.stdout
        untrusted = subprocess.run(status, **CAPTURE)
        assert untrusted.returncode == 2 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout
    finally:
        gateway.stop()
    assert f"on wss://127.0.0.1:{gateway.port}/ws" in gateway.output_after_stop
    assert "TLS certificate: CN=telegraphy-test, expires" in gateway.output_after_stop


def test_a_key_that_is_not_the_certificate_s_stops_the_start_with_a_message(
    tmp_path: Path,
) -> None:
    files = self_signed(tmp_path)
    (tmp_path / "other").mkdir()
    other = self_signed(tmp_path / "other")
    mixed = CertificateFiles(files.certificate, other.key)
    result = run_gateway(tmp_path, mixed.toml())
    assert result.returncode == 2
    assert f"tls.key {other.key} is not the key of the certificate in" in result.stderr


def test_a_missing_certificate_file_stops_the_start_with_a_message(tmp_path: Path) -> None:
    missing = CertificateFiles(tmp_path / "nowhere.pem", tmp_path / "key.pem")
    result = run_gateway(tmp_path, missing.toml())
    assert result.returncode == 2
    assert f"tls.certificate: cannot read {tmp_path / 'nowhere.pem'}" in result.stderr


def run_gateway(tmp_path: Path, extra_config: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "telegraphy.toml"
    path.write_text(DEFAULT_CONFIG + extra_config)
    command = [sys.executable, "-m", "telegraphy.gateway", "--config", str(path), "--port", "0"]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=tmp_path)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[tls]\ncertificate = "c.pem"\n', "tls.key must be the path of a PEM file, got None"),
        ('[tls]\ncertificate = ""\nkey = "k.pem"\n', "tls.certificate must be the path of a PEM"),
        ('[tls]\ncertificate = "c.pem"\nkey = "k.pem"\nca = "x"\n', "unknown key(s) ca at [tls]"),
        ('tls = "on"\n', "[tls] must be a table with certificate and key"),
    ],
)
def test_the_tls_table_is_checked_when_the_file_is_read(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_mapping(tomllib.loads(table))
    assert message in str(raised.value)
