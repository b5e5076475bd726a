"""The outbox's promises, proved with real processes for both adapters: a site's web processes
and relay commands, a real gateway and a WAMP subscriber, a SQLite or PostgreSQL database.

A site is a script that serves the app (`serve PORT`), runs its commands, creates its tables
(`migrate`) and commits N rows titled t0..tN-1 (`create N`); the Django and Flask tests each
have one (outbox_site.py, flask_outbox_site.py) and run the scenarios below against it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from postgres_server import PostgresServer, running_postgres
from twisted.internet import threads

from conftest import BACKEND_ID, BACKEND_SECRET, DEFAULT_CONFIG, start_gateway
from gateway_command import free_port
from gateway_harness import GatewayProcess, Inbox, join
from telegraphy.core import Envelope, RejectedError, event_topic

DOCS = Path(__file__).resolve().parents[3] / "docs"
SECRET = "outbox-tests-secret-0123456789"
RACED = 300
WAIT = 20.0
"""Seconds a process may take to start, answer or finish."""


@pytest.fixture(scope="module", name="postgres")
def postgres_fixture() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for a test module (`postgres = postgres_fixture` in it)."""
    with running_postgres() as server:
        yield server


@pytest.fixture(name="gateway")
def gateway_fixture(tmp_path: Path) -> Iterator[GatewayProcess]:
    """A real gateway sharing the sites' secret (`gateway = gateway_fixture` in a module)."""
    process = start_gateway(tmp_path, f'secret = "{SECRET}"\n' + DEFAULT_CONFIG)
    yield process
    process.stop()


def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a site keeps its data: `request.param` is "sqlite" or "postgresql"."""
    if request.param == "sqlite":
        return str(tmp_path / "site.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.url(server.create_database())


class RecordingGateway:
    """A transport that keeps what it delivers, and refuses the events titled in `refuse`."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse: set[str] = set()

    def check(self, envelope: Envelope) -> None:
        pass

    def deliver(self, batch: Sequence[Envelope]) -> None:
        for index, envelope in enumerate(batch):
            if envelope["data"].get("title") in self.refuse:
                raise RejectedError("refused", index=index)
        self.envelopes.extend(batch)

    def close(self) -> None:
        pass


@dataclass
class WebProcess:
    process: subprocess.Popen[str]
    port: int

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=WAIT) as r:
            body: str = r.read().decode()
            return body

    def get_and_die(self, path: str) -> int:
        """GET `path`, which ends the process; its exit status."""
        with suppress(OSError):  # the process died before it answered: what the test wants
            self.get(path)
        self.process.communicate(timeout=WAIT)  # and close its pipe
        return self.process.returncode

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=WAIT)
        return output


@dataclass
class Site:
    """One app (`script`) on one database, publishing to the gateway on `gateway_port`."""

    script: Sequence[str]
    event: str
    """The name of the event a row of the site makes."""
    relay: Sequence[str]
    """The relay command's arguments after the script, e.g. ["telegraphy_relay"]."""
    database: str
    gateway_port: int
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def environ(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "OUTBOX_DB": self.database,
            "OUTBOX_GATEWAY_PORT": str(self.gateway_port),
            "OUTBOX_SECRET": SECRET,
            **self.env,
            **extra,
        }

    def run(self, *args: str, **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, *self.script, *args],
            cwd=self.cwd,
            env=self.environ(**extra),
            capture_output=True,
            text=True,
            timeout=WAIT * 3,
        )
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}{done.stderr}"
        return done.stdout + done.stderr

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, *self.script, *args],
            cwd=self.cwd,
            env=self.environ(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def serve(self, **extra: str) -> WebProcess:
        """A web process, once it answers (its first request starts its relay)."""
        port = free_port()
        web = WebProcess(self.start("serve", str(port), **extra), port)
        wait_until(lambda: _answers(web), f"the web process on port {port} to answer")
        return web

    def waiting(self) -> int:
        """How many events wait in the outbox (the relay command's --status)."""
        status = self.run(*self.relay, "--status")
        found = re.search(r"(\d+) event\(s\) waiting", status)
        assert found, status
        return int(found.group(1))

    def relay_until_empty(self) -> subprocess.Popen[str]:
        return self.start(*self.relay, "--until-empty")


def python_blocks(page: str = "outbox.rst") -> list[str]:
    """The ``.. code-block:: python`` blocks of a docs page, dedented."""
    text = (DOCS / page).read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text)
    return [textwrap.dedent(block) for block in blocks]


def delivered_by(output: str) -> int:
    """How many events a relay command said it delivered."""
    found = re.search(r"(\d+) event\(s\) delivered", output)
    assert found, output
    return int(found.group(1))


def _answers(web: WebProcess) -> bool:
    if web.process.poll() is not None:
        output, _ = web.process.communicate()
        raise AssertionError(f"the web process exited ({web.process.returncode}):\n{output}")
    try:
        return web.get("/ping") == "pong"
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], what: str, seconds: float = WAIT) -> None:
    """Poll `condition` (a process or a database, from a thread) until it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)  # polling another process's state with a deadline


def finished(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate(timeout=WAIT)
    return output


async def subscribed(gateway: GatewayProcess, site: Site) -> Inbox:
    subscriber = await join(gateway.url, authid=BACKEND_ID, secret=BACKEND_SECRET)
    inbox = Inbox()
    await subscriber.subscribe(inbox, event_topic(site.event))
    return inbox


async def next_title(inbox: Inbox) -> tuple[str, str]:
    args, _ = await inbox.next(WAIT)
    envelope: dict[str, Any] = args[0]
    return envelope["meta"]["event_type"], envelope["data"]["title"]


async def settled(site: Site) -> None:
    await threads.deferToThread(wait_until, lambda: site.waiting() == 0, "every row settled")


async def killed_right_after_commit_loses_nothing(site: Site, gateway: GatewayProcess) -> None:
    inbox = await subscribed(gateway, site)
    # Its relay would only look at the table when woken: the kill comes first.
    doomed = await threads.deferToThread(site.serve, OUTBOX_POLL_INTERVAL="3600")
    status = await threads.deferToThread(doomed.get_and_die, "/write?title=kept&kill=1")
    assert status == -signal.SIGKILL
    assert await threads.deferToThread(site.waiting) == 1
    assert inbox.pending == 0
    # The next web process's relay (started by its first request) delivers what was left.
    web = await threads.deferToThread(site.serve)
    try:
        assert await next_title(inbox) == ("create", "kept")
        await settled(site)
    finally:
        await threads.deferToThread(web.stop)
    assert inbox.pending == 0


async def rolled_back_sends_nothing(site: Site, gateway: GatewayProcess) -> None:
    inbox = await subscribed(gateway, site)
    web = await threads.deferToThread(site.serve)
    try:
        await threads.deferToThread(web.get, "/write?title=gone&rollback=1")
        await threads.deferToThread(web.get, "/write?title=kept")
        # Delivery is in order: had the rolled-back event been sent, it would come first.
        assert await next_title(inbox) == ("create", "kept")
        await settled(site)
    finally:
        await threads.deferToThread(web.stop)
    assert inbox.pending == 0


async def racing_relays_deliver_every_row_once_in_order(
    site: Site, gateway: GatewayProcess
) -> None:
    inbox = await subscribed(gateway, site)
    # Many small claims, and relays that look again at once: they contend all along.
    site.env.update(OUTBOX_BATCH_SIZE="7", OUTBOX_POLL_INTERVAL="0.01")
    relays = [site.start(*site.relay), site.start(*site.relay)]
    try:
        for relay in relays:
            assert relay.stdout is not None
            ready = await threads.deferToThread(relay.stdout.readline)
            assert "delivering the outbox" in ready, ready
        await threads.deferToThread(site.run, "create", str(RACED))
        for n in range(RACED):
            assert await next_title(inbox) == ("create", f"t{n}")
        await settled(site)
    finally:
        for relay in relays:
            relay.send_signal(signal.SIGTERM)
    outputs = [await threads.deferToThread(finished, relay) for relay in relays]
    assert [relay.returncode for relay in relays] == [0, 0], outputs
    # Each relay counts the rows it delivered: a row delivered twice would count twice.
    assert sum(delivered_by(output) for output in outputs) == RACED, outputs
    assert inbox.pending == 0
