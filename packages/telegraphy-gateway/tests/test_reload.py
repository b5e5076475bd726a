"""SIGHUP: the configuration file read again by a running gateway. What can change is applied
without dropping a session; what needs a restart is logged and keeps its running value; a
broken file changes nothing. With --workers N the parent passes SIGHUP to every worker."""

from __future__ import annotations

import signal
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions
from certificates import self_signed
from cryptography import x509
from redis_server import RedisServer
from test_origins import upgrade_status
from test_scale_out import redis_config
from test_tls import start_tls_gateway

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG, start_gateway
from gateway_command import wait_for
from gateway_harness import GatewayProcess, Inbox, join, left
from telegraphy.gateway import GatewayConfig, config_from_mapping
from telegraphy.gateway.reload import merge

SHOP, ADMIN = "https://shop.example.com", "https://admin.example.com"


def origins(*allowed: str) -> str:
    return f"allowed_origins = {list(allowed)!r}\n".replace("'", '"') + DEFAULT_CONFIG


def reload(gateway: GatewayProcess, config: str, expect: str) -> None:
    """Write `config`, send SIGHUP, and wait until the log shows `expect` once more."""
    seen = gateway.output().count(expect)
    (Path(gateway.log.name).parent / "telegraphy.toml").write_text(config)
    gateway.process.send_signal(signal.SIGHUP)
    wait_for(lambda: gateway.output().count(expect) > seen, f"{expect!r} in the log", 10)


@pytest_twisted.ensureDeferred
async def test_new_allowed_origins_apply_to_new_connections_and_sessions_stay(
    tmp_path: Path,
) -> None:
    gateway = start_gateway(tmp_path, origins(SHOP))
    try:
        session = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        inbox = Inbox()
        await session.subscribe(inbox, "app.kept")
        assert (upgrade_status(gateway.port, SHOP), upgrade_status(gateway.port, ADMIN)) == (
            101,
            403,
        )
        reload(gateway, origins(ADMIN), "configuration reloaded: allowed_origins changed")
        assert (upgrade_status(gateway.port, SHOP), upgrade_status(gateway.port, ADMIN)) == (
            403,
            101,
        )
        options = PublishOptions(acknowledge=True, exclude_me=False)
        await session.publish("app.kept", "still here", options=options)
        assert (await inbox.next())[0] == ("still here",)
        session.leave()
        await left(session)
    finally:
        gateway.stop()
    assert "Traceback" not in gateway.output_after_stop


@pytest_twisted.ensureDeferred
async def test_a_broken_file_keeps_the_running_configuration_and_says_why(
    tmp_path: Path,
) -> None:
    gateway = start_gateway(tmp_path, origins(SHOP))
    try:
        refused = "configuration not reloaded, the running one is kept: "
        reload(gateway, origins(ADMIN) + "[limits\n", refused)
        assert "is not valid TOML" in gateway.output()
        reload(gateway, origins(ADMIN) + "max_message_size = -1\n", refused)
        assert "limits.max_message_size must be a positive number, got -1" in gateway.output()
        assert upgrade_status(gateway.port, SHOP) == 101
        assert upgrade_status(gateway.port, ADMIN) == 403
        session = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        session.leave()
        await left(session)
        reload(gateway, origins(ADMIN), "configuration reloaded: allowed_origins changed")
        assert upgrade_status(gateway.port, ADMIN) == 101
    finally:
        gateway.stop()


NEW_BACKEND = 'authid = "backend-2"\nsecret = "another-secret-0123456789"\n'


@pytest_twisted.ensureDeferred
async def test_public_topics_backends_and_metrics_apply_while_the_realm_needs_a_restart(
    tmp_path: Path,
) -> None:
    gateway = start_gateway(tmp_path, DEFAULT_CONFIG)
    try:
        anonymous = await join(gateway.url)
        with pytest.raises(ApplicationError, match="not_authorized"):
            await anonymous.subscribe(Inbox(), "app.open")
        assert metrics_status(gateway.port) == 200
        changed = DEFAULT_CONFIG.replace('realm = "telegraphy"', 'realm = "elsewhere"')
        changed = changed.replace("public = [", 'public = ["app.open", ')
        changed += f'\n[[backends]]\n{NEW_BACKEND}\n[metrics]\nallow = ["10.0.0.0/8"]\n'
        reload(gateway, changed, "configuration reloaded: backends, public, metrics changed")
        assert "configuration: realm changed, but takes a restart" in gateway.output()
        # Sessions joining from now on are granted the new public topics, in the running realm.
        fresh = await join(gateway.url)
        await fresh.subscribe(Inbox(), "app.open")
        backend = await join(gateway.url, authid="backend-2", secret="another-secret-0123456789")
        assert metrics_status(gateway.port) == 403
        for session in (anonymous, fresh, backend):
            session.leave()
            await left(session)
    finally:
        gateway.stop()


@pytest_twisted.ensureDeferred
async def test_limits_and_log_level_apply(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path, DEFAULT_CONFIG)
    try:
        upgrade_status(gateway.port, ADMIN)
        assert f"origin {ADMIN} is not allowed" in gateway.output()  # an info line
        quiet = DEFAULT_CONFIG + 'max_subscriptions_per_session = 1\n[log]\nlevel = "warn"\n'
        # The realm's change is refused: its warning shows the reload is done.
        quiet = quiet.replace('realm = "telegraphy"', 'realm = "elsewhere"')
        restart = "configuration: realm changed, but takes a restart"
        reload(gateway, quiet, restart)
        session = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
        await session.subscribe(Inbox(), "app.one")
        with pytest.raises(ApplicationError, match="limit_exceeded"):
            await session.subscribe(Inbox(), "app.two")
        session.leave()
        await left(session)
        upgrade_status(gateway.port, "https://other.example.com")
        reload(gateway, quiet, restart)
        assert gateway.output().count("refused a WebSocket from") == 1  # the info line before
    finally:
        gateway.stop()


def served_name(port: int) -> str:
    """The common name of the certificate a new TLS connection to `port` is served."""
    pem = ssl.get_server_certificate(("127.0.0.1", port), timeout=5)
    certificate = x509.load_pem_x509_certificate(pem.encode())
    return str(certificate.subject.rfc4514_string())


def test_a_renewed_certificate_is_served_after_sighup_and_a_broken_one_is_not(
    tmp_path: Path,
) -> None:
    files = self_signed(tmp_path, "first")
    gateway = start_tls_gateway(tmp_path, files)
    try:
        assert served_name(gateway.port) == "CN=first"
        config = (tmp_path / "telegraphy.toml").read_text()
        self_signed(tmp_path, "renewed")  # over the same files, as certbot renews
        reload(gateway, config, "TLS certificate reloaded: CN=renewed")
        assert served_name(gateway.port) == "CN=renewed"
        files.certificate.write_text("not a certificate")
        reload(gateway, config, "configuration not reloaded")
        assert f"tls.certificate: {files.certificate} holds no PEM certificate" in gateway.output()
        assert served_name(gateway.port) == "CN=renewed"
    finally:
        gateway.stop()


def test_the_workers_parent_passes_sighup_to_every_worker(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    config = redis_config(redis_server, "reload:")
    gateway = start_gateway(
        tmp_path, f'allowed_origins = ["{SHOP}"]\n' + config, ("--workers", "2")
    )
    try:
        wait_for(lambda: gateway.output().count("serving realm") == 2, "two workers")
        done = "configuration reloaded: allowed_origins changed"
        (tmp_path / "telegraphy.toml").write_text(f'allowed_origins = ["{ADMIN}"]\n' + config)
        gateway.process.send_signal(signal.SIGHUP)
        wait_for(lambda: gateway.output().count(done) == 2, "both workers to reload")
        # New connections, spread by the kernel over both workers: every one sees the change.
        assert {upgrade_status(gateway.port, ADMIN) for _ in range(40)} == {101}
        assert {upgrade_status(gateway.port, SHOP) for _ in range(40)} == {403}
    finally:
        gateway.stop()
    assert "SIGHUP: 2 workers reload the configuration" in gateway.output_after_stop


def metrics_status(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_a_reload_takes_the_reloadable_keys_and_keeps_the_running_value_of_the_others() -> None:
    running = config_from_mapping({"allowed_origins": [SHOP], "port": 9000})
    read = config_from_mapping({"allowed_origins": [ADMIN], "port": 9001, "realm": "other"})
    config, changed, restart = merge(running, read)
    assert (changed, restart) == (["allowed_origins"], ["realm", "port"])
    assert (config.allowed_origins, config.port, config.realm) == (
        read.allowed_origins,
        9000,
        "telegraphy",
    )
    tls = config_from_mapping({"tls": {"certificate": "c.pem", "key": "k.pem"}})
    assert merge(GatewayConfig(), tls)[1:] == ([], ["tls"])  # turning TLS on takes a restart
    renamed = config_from_mapping({"tls": {"certificate": "new.pem", "key": "k.pem"}})
    assert merge(tls, renamed)[1:] == (["tls"], [])
