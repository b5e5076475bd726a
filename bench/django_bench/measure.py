"""Measure django-telegraphy: the added cost of a model save (through the publisher, and with
the transactional outbox), and save() -> subscriber latency.

The demo's `MyModel` on SQLite (a file in a temporary directory), a real gateway, and an
autobahn subscriber (WAMP-CRA backend) in a thread. Results in django.json. The package is
named django_bench, not django: bench/ is on sys.path and must not hide Django itself.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telebench.errors import BenchError
from telebench.percentiles import percentiles_us
from telebench.router_configs import TELEGRAPHY_PER_ADDRESS_LIMITS
from telebench.routers import RunningRouter, TelegraphySpec
from telebench.settings import HOST, REALM

SECRET = "bench-django-secret-not-for-production"
BACKEND_ID = "bench-subscriber"
BACKEND_SECRET = "bench-subscriber-secret-0123456789"
TOPIC = "telegraphy.event.telegraphy_demo.MyModel"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "django_demo"
START_TIMEOUT_S = 30.0
RECEIVE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DjangoBenchSettings:
    saves: int
    """Saves timed per mode (telegraphy enabled, disabled), over `rounds` alternating rounds."""
    rounds: int
    latency_events: int
    """Saves whose save() -> subscriber latency is measured, one at a time."""


FULL = DjangoBenchSettings(saves=20_000, rounds=10, latency_events=2_000)
QUICK = DjangoBenchSettings(saves=2_000, rounds=4, latency_events=200)


@dataclass(frozen=True)
class BackendGatewaySpec:
    """The gateway with its ingress on and a WAMP-CRA backend for the subscriber."""

    gateway: Path
    name: str = "telegraphy"

    def version(self) -> str:
        return TelegraphySpec(self.gateway).version()

    def command(self, workdir: Path, port: int) -> list[str]:
        config = workdir / "telegraphy.toml"
        config.write_text(
            f'realm = "{REALM}"\nsecret = "{SECRET}"\n[[backends]]\n'
            f'authid = "{BACKEND_ID}"\nsecret = "{BACKEND_SECRET}"\n'
            f"[limits]\n{TELEGRAPHY_PER_ADDRESS_LIMITS}"
        )
        base = TelegraphySpec(self.gateway).command(workdir, port)[:5]
        return [*base, "--config", str(config), "--log-level", "warn"]


def setup_django(database: Path, gateway_port: int) -> None:
    sys.path.append(str(DEMO))
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "telegraphy.contrib.django_telegraphy",
            "telegraphy_demo",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        TELEGRAPHY={"SECRET": SECRET, "GATEWAY_URL": f"http://{HOST}:{gateway_port}"},
    )
    django.setup()
    call_command("migrate", verbosity=0)
    # The demo's MyModel events also render a table row (a fragment, docs/fragments.rst): the
    # figures here are the cost of model events themselves, so that rendering is left out.
    from telegraphy_demo.events import MyEventsModel

    MyEventsModel.fragment_template = None


MODES = ("disabled", "enabled", "outbox")
"""Telegraphy off; on (the publisher's queue); on with the transactional outbox (save_cost)."""


def set_mode(mode: str) -> None:
    from django.conf import settings
    from django.test.utils import override_settings

    telegraphy = {**settings.TELEGRAPHY, "ENABLED": mode != "disabled", "OUTBOX": mode == "outbox"}
    override_settings(TELEGRAPHY=telegraphy).enable()


def timed_saves(count: int) -> list[int]:
    """Create and then update `count` MyModels; the cost of each save() in ns."""
    from telegraphy_demo.models import MyModel

    costs = []
    for n in range(count):
        thing = MyModel(title=f"bench {n}", count=n)
        started = time.perf_counter_ns()
        thing.save()
        costs.append(time.perf_counter_ns() - started)
    return costs


def save_cost(s: DjangoBenchSettings) -> dict[str, Any]:
    """Alternating rounds of saves, in two phases: disabled and enabled (the publisher); then,
    with the outbox's relay thread running (it takes SQLite's write lock when it claims rows,
    so it weighs on every save while it runs), disabled and outbox."""
    from telegraphy.contrib.django_telegraphy import outbox
    from telegraphy.contrib.django_telegraphy.conf import get_sender

    timed_saves(200)  # warm up the database and the publisher
    publisher = _rounds(("disabled", "enabled"), s)
    if not get_sender().flush(120):  # type: ignore[attr-defined]
        raise BenchError("django: events not delivered in 120 s")
    set_mode("outbox")
    outbox.start_relays()  # as the first request of a web process does
    with_relay = _rounds(("disabled", "outbox"), s)
    deadline = time.monotonic() + 120
    while outbox.lag() is not None:  # the relay is still delivering the outbox's rows
        if time.monotonic() > deadline:
            raise BenchError("django: the outbox's rows not delivered in 120 s")
        time.sleep(0.1)
    outbox.stop_relays()
    summaries = {mode: percentiles_us(costs) for mode, costs in publisher.items()}
    summaries["disabled_with_relay"] = percentiles_us(with_relay["disabled"])
    summaries["outbox"] = percentiles_us(with_relay["outbox"])
    return {
        "saves_per_mode": len(publisher["enabled"]),
        **summaries,
        **_compared("enabled", summaries["enabled"], summaries["disabled"]),
        **_compared("outbox", summaries["outbox"], summaries["disabled_with_relay"]),
        "ratio_p50": round(summaries["enabled"]["p50_us"] / summaries["disabled"]["p50_us"], 3),
    }


def _rounds(modes: tuple[str, ...], s: DjangoBenchSettings) -> dict[str, list[int]]:
    costs: dict[str, list[int]] = {mode: [] for mode in modes}
    for _ in range(s.rounds):
        for mode in modes:
            set_mode(mode)
            costs[mode] += timed_saves(s.saves // s.rounds)
    return costs


def _compared(mode: str, summary: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float]:
    return {
        f"{mode}_ratio_mean": round(summary["mean_us"] / baseline["mean_us"], 3),
        f"{mode}_added_us_mean": round(summary["mean_us"] - baseline["mean_us"], 2),
    }


class Subscriber:
    """An autobahn (asyncio) backend session in its own thread, timing each event's arrival."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies_ns: list[int] = []
        self.ready = threading.Event()
        self.received = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self.ready.wait(START_TIMEOUT_S):
            raise BenchError("django: the subscriber did not join")

    def _run(self) -> None:
        from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
        from autobahn.wamp import auth

        subscriber = self

        class Session(ApplicationSession):  # type: ignore[misc]
            def onConnect(self) -> None:
                self.join(REALM, ["wampcra"], BACKEND_ID)

            def onChallenge(self, challenge: Any) -> str:
                signature: str = auth.compute_wcs(BACKEND_SECRET, challenge.extra["challenge"])
                return signature

            async def onJoin(self, details: Any) -> None:
                await self.subscribe(subscriber.on_event, TOPIC)
                subscriber.ready.set()

        asyncio.set_event_loop(self._loop)
        runner = ApplicationRunner(self.url, REALM)
        self._loop.run_until_complete(runner.run(Session, start_loop=False))
        self._loop.run_forever()

    def on_event(self, envelope: dict[str, Any]) -> None:
        arrived = time.perf_counter_ns()
        sent = int(envelope["data"]["description"] or 0)
        with self.received:
            if sent:
                self.latencies_ns.append(arrived - sent)
            self.received.notify_all()

    def wait_for(self, count: int) -> None:
        with self.received:
            if not self.received.wait_for(lambda: len(self.latencies_ns) >= count, 10):
                raise BenchError(f"django: event {count} did not reach the subscriber in 10 s")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


def latency(port: int, s: DjangoBenchSettings) -> dict[str, Any]:
    """One save at a time (waiting for its arrival): save() start -> subscriber callback."""
    from telegraphy_demo.models import MyModel

    set_mode("enabled")
    subscriber = Subscriber(f"ws://{HOST}:{port}/ws")
    subscriber.start()
    try:
        for n in range(s.latency_events):
            # perf_counter_ns is one clock for the whole process: both threads read it.
            MyModel(title=f"latency {n}", description=str(time.perf_counter_ns())).save()
            subscriber.wait_for(n + 1)
    finally:
        subscriber.stop()
    return {"events": s.latency_events, **percentiles_us(subscriber.latencies_ns)}


def run(gateway: Path, output_dir: Path, quick: bool) -> dict[str, Any]:
    """Measure, write `output_dir/django.json`, and return the results."""
    s = QUICK if quick else FULL
    spec = BackendGatewaySpec(gateway)
    with RunningRouter(spec, START_TIMEOUT_S) as router, tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp) / "bench.sqlite3", router.port)
        print(f"bench: django: {s.saves} saves per mode: {', '.join(MODES)}", flush=True)
        cost = save_cost(s)
        print(f"bench: django: save() -> subscriber latency, {s.latency_events} events", flush=True)
        arrival = latency(router.port, s)
    results = {
        "quick": quick,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "gateway_version": spec.version(),
        "figures": {
            "save_cost_ratio": cost["enabled_ratio_mean"],
            "save_added_us": cost["enabled_added_us_mean"],
            "save_with_outbox_cost_ratio": cost["outbox_ratio_mean"],
            "save_with_outbox_added_us": cost["outbox_added_us_mean"],
            "save_to_callback_p50_ms": round(arrival["p50_us"] / 1000, 2),
            "save_to_callback_p99_ms": round(arrival["p99_us"] / 1000, 2),
        },
        "details": {"save_cost": cost, "latency": arrival},
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "django.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"bench: django: {results['figures']}", flush=True)
    print(f"bench: wrote {path}", flush=True)
    return results
