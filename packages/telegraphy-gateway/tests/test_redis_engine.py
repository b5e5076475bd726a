"""The Redis engine when Redis is slow: publications beyond the bound are refused at once
(never an unbounded queue), and a Redis that does not answer in time fails the publications
waiting for it; nothing is acknowledged that Redis did not keep (a real redis-server, paused
with DEBUG SLEEP). And over TLS, trusting a given authority."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from redis_server import REDIS_SERVER, RedisServer
from test_engines import until
from twisted.internet import defer

from gateway_command import free_port
from telegraphy.gateway.engines.base import Draft, EngineUnavailable, HistoryPolicy
from telegraphy.gateway.engines.redis import REPLY_TIMEOUT, RedisAddress, RedisEngine


@pytest_twisted.async_yield_fixture
async def engine(redis_server: RedisServer) -> AsyncIterator[RedisEngine]:
    made = RedisEngine(
        RedisAddress.parse(redis_server.url),
        f"slow-{uuid.uuid4().hex[:8]}:",
        lambda topic: HistoryPolicy(100, 300.0),
        60.0,
    )
    made.streams.bind(lambda entry: None)
    made.start()
    await until(lambda: made.problem() is None, "the Redis engine ready")
    yield made
    await made.stop()


def outcomes(results: list[tuple[bool, Any]]) -> list[str]:
    return [
        "kept" if ok else type(value.value).__name__ if hasattr(value, "value") else "?"
        for ok, value in results
    ]


@pytest_twisted.ensureDeferred
async def test_publications_beyond_the_bound_are_refused_at_once(engine: RedisEngine) -> None:
    engine.streams.max_pending = 20
    published = [engine.streams.publish(Draft("app.slow", [n])) for n in range(25)]
    results = await defer.DeferredList(published, consumeErrors=True)

    assert outcomes(results) == ["kept"] * 20 + ["EngineUnavailable"] * 5
    assert "Redis is slow" in str(results[-1][1].value)
    kept = await engine.streams.history("app.slow", 100)
    assert [e.draft.args[0] for e in kept] == list(range(20))
    # Once Redis has answered, publications are taken again.
    assert (await engine.streams.publish(Draft("app.slow", ["more"]))).entry.offset == 21


@pytest_twisted.ensureDeferred
async def test_a_redis_that_does_not_answer_in_time_fails_what_waits_for_it(
    engine: RedisEngine,
) -> None:
    engine.connection.reply_timeout = 0.3
    # Redis busy for 1.5 s, on the engine's own connection, before the publications.
    busy = engine.connection.redis.execute_command("DEBUG", "SLEEP", "1.5")
    busy.addErrback(lambda failure: None)
    published = [engine.streams.publish(Draft("app.stuck", [n])) for n in range(5)]
    results = await defer.DeferredList(published, consumeErrors=True)

    assert outcomes(results) == ["EngineUnavailable"] * 5
    # The engine reconnects by itself and takes publications again (waiting, this time, for
    # Redis to wake up: the default timeout is longer than what is left of the sleep).
    engine.connection.reply_timeout = REPLY_TIMEOUT
    await until(lambda: engine.problem() is None, "the engine reconnected")
    accepted = await engine.streams.publish(Draft("app.stuck", ["after"]))
    assert accepted.entry.draft.args == ["after"]


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A certificate authority and a server certificate for `localhost`, with openssl."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test ca",
            "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (directory / "san.cnf").write_text("subjectAltName = DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", "san.cnf",
            "-out", "server.pem")  # fmt: skip
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest_twisted.ensureDeferred
async def test_the_engine_talks_to_redis_over_tls_trusting_the_given_authority(
    tmp_path: Path,
) -> None:
    ca, certificate, key = make_certificates(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(certificate), "--tls-key-file", str(key),
         "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no", "--save", "",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    trusted = RedisEngine(
        RedisAddress.parse(f"rediss://localhost:{port}/0", ca=str(ca)),
        "tls:",
        lambda topic: HistoryPolicy(10, 300.0),
        60.0,
    )
    untrusted = RedisEngine(
        RedisAddress.parse(f"rediss://localhost:{port}/0"),  # the system's authorities only
        "tls:",
        lambda topic: HistoryPolicy(10, 300.0),
        60.0,
    )
    try:
        for engine in (trusted, untrusted):
            engine.streams.bind(lambda entry: None)
            engine.start()
        await until(lambda: trusted.problem() is None, "a TLS connection to Redis")
        accepted = await trusted.streams.publish(Draft("app.tls", ["over tls"]))
        kept = await trusted.streams.history("app.tls", 10)
        assert [e.draft.args for e in kept] == [["over tls"]] and accepted.entry.offset == 1
        # A certificate the engine may not trust: no connection, publications refused.
        assert untrusted.problem() is not None
        with pytest.raises(EngineUnavailable):
            await untrusted.streams.publish(Draft("app.tls", ["refused"]))
    finally:
        await trusted.stop()
        await untrusted.stop()
        server.terminate()
        server.wait(timeout=10)


@pytest_twisted.ensureDeferred
async def test_a_catch_up_that_fails_is_tried_again_until_the_missed_events_arrive(
    redis_server: RedisServer,
) -> None:
    """After a reconnection, the subscription may return before the commands' connection
    does: the first read of what was missed fails, and a later one must still deliver it."""
    prefix = f"catchup-{uuid.uuid4().hex[:8]}:"

    def made() -> RedisEngine:
        return RedisEngine(
            RedisAddress.parse(redis_server.url),
            prefix,
            lambda topic: HistoryPolicy(100, 300.0),
            60.0,
        )

    publisher = made()
    publisher.streams.bind(lambda entry: None)
    publisher.start()
    await until(lambda: publisher.problem() is None, "the publishing engine ready")
    first = await publisher.streams.publish(Draft("app.missed", [0]))
    for n in range(1, 6):  # published while the other gateway was away
        await publisher.streams.publish(Draft("app.missed", [n]))

    delivered: list[Any] = []
    away = made()
    away.streams.bind(lambda entry: delivered.append(entry.draft.args[0]))
    streams = away.streams
    # It had delivered the first publication when it lost the channel, a moment ago.
    streams._delivered["app.missed"] = first.entry.position
    streams._lost_at = streams._clock() - 1
    failures = [EngineUnavailable("the commands' connection is not back yet")]
    away.start()  # connects and subscribes in later turns of the reactor
    run = streams._redis.run

    def run_failing_once(script: str, *args: Any, **kwargs: Any) -> Any:
        if failures and "ZRANGEBYSCORE" in script:  # the catch-up's list of topics
            return defer.fail(failures.pop())
        return run(script, *args, **kwargs)

    streams._redis.run = run_failing_once  # type: ignore[method-assign]
    try:
        await until(lambda: delivered == [1, 2, 3, 4, 5], "the missed publications delivered")
    finally:
        await away.stop()
        await publisher.stop()
    assert not failures  # the catch-up did fail once
