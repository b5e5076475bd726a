"""The storm group: a reconnect storm after a gateway restart, with and without recovery.

One repeat, in a fresh temporary directory (the SQLite file lives there) on a fresh port:

1. the gateway (SQLite engine, history on) starts; N anonymous clients subscribe to one
   topic; a WAMP-CRA publisher publishes a few events and every client records the position
   (offset, epoch) of the last one it received;
2. the gateway is stopped (SIGTERM): every client loses its connection;
3. the gateway is started again in the same directory on the same port ("restart");
   the publisher publishes the missed events (acknowledged: committed) while the clients are
   away;
4. all N clients reconnect at once ("storm") and subscribe, with `recover` naming their last
   position (mode "recover") or plainly (mode "plain"). A recovering client is complete
   when it has every missed event (details.recovered) and the recovery report; a plain one
   when SUBSCRIBED arrives.

Figures: storm_s (from the storm's first connect until the last client is complete) and
from_restart_s (from starting the restarted gateway's process; includes its start-up and
the publications). Modes alternate (recover, plain, recover, ...). Results in
results/storm.json.
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import report, spread
from .bootstrap import compile_loadgen
from .errors import BenchError
from .routers import RunningRouter, TelegraphySpec, free_port
from .settings import BACKEND_AUTHID, BACKEND_SECRET, HOST, REALM, WS_PATH
from .storm_client import Publisher, Subscriber, open_at_once

TOPIC = "bench.storm"
ENGINE_CONFIG = (
    '[engine]\nkind = "sqlite"\n\n[history]\nsize = 1000\nttl = 300\nmax_recover = 1000\n'
)
MODES = ("recover", "plain")


@dataclass(frozen=True)
class StormSettings:
    clients: int = 1000
    missed_events: int = 100
    events_before: int = 5
    repeats: int = 5
    setup_concurrency: int = 100
    storm_timeout_s: float = 120.0
    setup_timeout_s: float = 120.0
    router_start_timeout_s: float = 60.0


FULL_STORM = StormSettings()
QUICK_STORM = StormSettings(repeats=3)


def _payload(n: int) -> dict[str, Any]:
    """About 200 bytes, shaped like a Telegraphy model event (as the C generator's)."""
    return {
        "name": "shop.Order",
        "meta": {"event_type": "update", "verbose_name": "order"},
        "data": {"id": n, "status": "paid", "total": "99.50", "note": "x" * 40},
        "ts": time.time_ns(),
    }


class _Repeat:
    def __init__(self, gateway: Path, s: StormSettings, mode: str) -> None:
        self.spec = TelegraphySpec(gateway, extra_config=ENGINE_CONFIG)
        self.s = s
        self.mode = mode
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-storm-"))

    def _router(self) -> RunningRouter:
        return RunningRouter(
            self.spec, self.s.router_start_timeout_s, workdir=self.workdir, port=self.port
        )

    def _subscriber(self, recover: dict[str, Any] | None, started: float) -> Subscriber:
        expected = self.s.missed_events if recover is not None else 0
        return Subscriber(HOST, self.port, WS_PATH, REALM, TOPIC, recover, expected, started)

    async def _connect(self, protocol: Any) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: protocol, HOST, self.port)

    async def _publish(self, count: int, first: int) -> None:
        publisher = Publisher(HOST, self.port, WS_PATH, REALM, BACKEND_AUTHID, BACKEND_SECRET)
        await self._connect(publisher)
        await asyncio.wait_for(publisher.ready, 30)
        acks = [publisher.publish(TOPIC, _payload(first + i)) for i in range(count)]
        await asyncio.wait_for(asyncio.gather(*acks), 60)
        publisher.abort()

    async def _subscribe_all(self) -> list[Subscriber]:
        """Phase 1: N clients subscribed, each having seen `events_before` events."""
        gate = asyncio.Semaphore(self.s.setup_concurrency)
        started = time.monotonic()
        clients = [self._subscriber(None, started) for _ in range(self.s.clients)]

        async def join(client: Subscriber) -> None:
            async with gate:
                await self._connect(client)
                await client.done

        await asyncio.wait_for(asyncio.gather(*map(join, clients)), self.s.setup_timeout_s)
        await self._publish(self.s.events_before, 0)
        deadline = time.monotonic() + 30
        while any(c.live < self.s.events_before for c in clients):
            if time.monotonic() > deadline:
                raise BenchError("storm: subscribers did not receive the first events")
            await asyncio.sleep(0.05)
        return clients

    async def _storm(
        self, positions: list[dict[str, Any] | None], router: RunningRouter
    ) -> dict[str, Any]:
        """Phase 4: every client reconnects at once; returns the timings."""
        started = time.monotonic()
        cpu_client, cpu_router = time.process_time(), router.cpu_seconds()
        clients = [self._subscriber(p, started) for p in positions]
        await asyncio.wait_for(open_at_once(clients, HOST, self.port), self.s.storm_timeout_s)
        remaining = self.s.storm_timeout_s - (time.monotonic() - started)
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), max(remaining, 1))
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - cpu_client
        router_cpu = router.cpu_seconds() - cpu_router
        done = sorted(c.done_s or 0.0 for c in clients)
        problems = [c for c in clients if c.live]
        if self.mode == "recover":
            problems += [
                c
                for c in clients
                if c.recovered != self.s.missed_events
                or not c.report
                or c.report[0].get("gap")
                or c.report[0].get("recovered") != self.s.missed_events
            ]
        if problems:
            c = problems[0]
            raise BenchError(
                f"storm: {len(problems)} clients got the wrong events: live {c.live}, "
                f"recovered {c.recovered}, report {c.report}"
            )
        for c in clients:
            c.abort()
        return {
            "storm_s": round(elapsed, 4),
            "client_done_p50_s": round(statistics.median(done), 4),
            "steps_s": _steps(clients),
            "events_recovered": sum(c.recovered for c in clients),
            "generator_cpu": round(client_cpu / elapsed, 3),
            "router_cpu": round(router_cpu / elapsed, 3),
            "router_cpu_s": round(router_cpu, 3),
            "generator_cpu_s": round(client_cpu, 3),
        }

    async def run(self) -> dict[str, Any]:
        try:
            first = self._router()
            await asyncio.to_thread(first.__enter__)
            try:
                clients = await self._subscribe_all()
            finally:
                await asyncio.to_thread(first.__exit__, None, None, None)
            await asyncio.wait_for(asyncio.gather(*(c.closed for c in clients)), 30)
            positions = [c.last_position if self.mode == "recover" else None for c in clients]
            restarted = time.monotonic()
            second = self._router()
            await asyncio.to_thread(second.__enter__)
            try:
                healthy = time.monotonic()
                await self._publish(self.s.missed_events, self.s.events_before)
                published = time.monotonic()
                timings = await self._storm(positions, second)
            finally:
                await asyncio.to_thread(second.__exit__, None, None, None)
            timings["restart_to_healthy_s"] = round(healthy - restarted, 4)
            timings["publish_missed_s"] = round(published - healthy, 4)
            timings["from_restart_s"] = round(published - restarted + timings["storm_s"], 4)
            timings["sqlite_file"] = any(self.workdir.glob("*.sqlite3"))
            timings["loadavg_1m"] = round(os.getloadavg()[0], 2)  # others' load on the machine
            return timings
        finally:
            for path in sorted(self.workdir.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            self.workdir.rmdir()


async def _ceiling(wampblast: Path, s: StormSettings) -> dict[str, Any]:
    """The generator's own floor for the storm: the same clients against wampblast (the C
    "ideal router", which answers at once and fans out at almost no cost): all of them join at
    once (the plain storm's floor), then `missed_events` events are published to them, counted
    as recovered events are (no JSON parsing), until every client has them all (about the
    recovering storm's floor, though there events flow while clients are still joining)."""
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        str(wampblast),
        "--port",
        str(port),
        "--duration",
        str(s.storm_timeout_s),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        if b'"listening"' not in await asyncio.wait_for(server.stdout.readline(), 10):
            raise BenchError("wampblast did not start")
        started = time.monotonic()
        cpu = time.process_time()
        clients = [
            Subscriber(HOST, port, WS_PATH, REALM, TOPIC, None, 0, started)
            for _ in range(s.clients)
        ]
        for client in clients:
            client.keep_positions = False
        await open_at_once(clients, HOST, port)
        await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), s.storm_timeout_s)
        joined = time.monotonic() - started
        publisher = Publisher(HOST, port, WS_PATH, REALM, BACKEND_AUTHID, BACKEND_SECRET)
        await asyncio.get_running_loop().create_connection(lambda: publisher, HOST, port)
        await asyncio.wait_for(publisher.ready, 10)
        acks = [publisher.publish(TOPIC, _payload(i)) for i in range(s.missed_events)]
        await asyncio.wait_for(asyncio.gather(*acks), 60)
        deadline = time.monotonic() + 60
        while any(c.live < s.missed_events for c in clients):
            if time.monotonic() > deadline:
                raise BenchError("storm ceiling: clients did not receive the events")
            await asyncio.sleep(0.005)
        elapsed = time.monotonic() - started
        for c in [*clients, publisher]:
            c.abort()
        return {
            "join_s": round(joined, 4),
            "join_and_receive_s": round(elapsed, 4),
            "generator_cpu_s": round(time.process_time() - cpu, 3),
        }
    finally:
        if server.returncode is None:
            server.terminate()
        await server.wait()


def _steps(clients: list[Subscriber]) -> dict[str, list[float]]:
    """When the clients got through each step of joining, since the storm began:
    [first, median, last] per step."""
    steps = {}
    for step in ("connected_s", "upgraded_s", "welcomed_s", "subscribed_s", "done_s"):
        times = sorted(getattr(c, step) or 0.0 for c in clients)
        steps[step[:-2]] = [
            round(times[0], 3),
            round(statistics.median(times), 3),
            round(times[-1], 3),
        ]
    return steps


def _raise_open_files_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, 4096)), hard))


def run(gateway: Path, output_dir: Path, quick: bool) -> dict[str, Any]:
    s = QUICK_STORM if quick else FULL_STORM
    _raise_open_files_limit(s.clients + 256)
    _, wampblast = compile_loadgen()
    print("bench: storm: measuring the generator's floor against wampblast", flush=True)
    floor = asyncio.run(_ceiling(wampblast, s))
    print(f"bench: storm: generator floor: {floor}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for repeat in range(s.repeats):
        for mode in MODES:
            print(f"bench: storm: {mode}, repeat {repeat + 1}/{s.repeats}", flush=True)
            timings = asyncio.run(_Repeat(gateway, s, mode).run())
            runs[mode].append(timings)
            print(f"bench: storm: {mode}: {timings}", flush=True)
    figures: dict[str, Any] = {}
    for key in ("storm_s", "from_restart_s", "router_cpu_s"):
        for mode in MODES:
            values = [float(t[key]) for t in runs[mode]]
            figures[f"{mode}_{key}"] = {
                "label": f"{key}, {mode}",
                "short": "with recover" if mode == "recover" else "plain resubscribe",
                "unit": "s",
                **spread.summary(values),
            }
    ratios = {
        key: spread.ratio_summary(
            [float(t[key]) for t in runs["recover"]], [float(t[key]) for t in runs["plain"]]
        )
        for key in ("storm_s", "from_restart_s", "router_cpu_s")
    }
    results = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mode": "quick" if quick else "full",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "gateway_version": TelegraphySpec(gateway).version(),
        "what": (
            f"{s.clients} anonymous clients on one topic; gateway (SQLite engine) restarted in "
            f"the same directory; {s.missed_events} events published (acknowledged) after the "
            "restart and before the clients return; all clients reconnect at once and "
            "resubscribe, with recover positions (recover) or without (plain). storm_s: from "
            "the storm's first connect until every client is complete (recover: all missed "
            "events and the recovery report; plain: SUBSCRIBED). from_restart_s: from starting "
            "the restarted gateway's process (its start-up and the publications included). "
            "router_cpu_s: the gateway's CPU time (all threads) during the storm. "
            "Lower is better; median over the repeats; ratios recover/plain."
        ),
        "title": f"Reconnect storm: {s.clients} clients, {s.missed_events} missed events",
        "higher_is_better": False,
        "figures": figures,
        "ratios": ratios,
        "panels": [
            {
                "title": f"{title} (lower is better)",
                "keys": [f"{mode}_{key}" for mode in MODES],
                "note": f"recover/plain {ratios[key]['ratio_of_medians']:.2f}",
            }
            for key, title in (
                ("storm_s", "Storm: first connect to last client complete"),
                ("from_restart_s", "From the restart (start-up and publishing included)"),
                ("router_cpu_s", "Gateway CPU time during the storm"),
            )
        ],
        "generator_floor": floor,
        "generator": (
            "one Python asyncio process (telebench/storm_client.py), hand-written WebSocket "
            "framing; generator_cpu in runs is its CPU use during the storm, in cores. "
            "generator_floor: the same storm against wampblast (an ideal C router): join_s "
            "for 1000 clients to join (the plain storm's floor), join_and_receive_s until "
            "they also have the missed events (about the recovering storm's floor)"
        ),
        "config": ENGINE_CONFIG,
        "settings": s.__dict__,
        "runs": runs,
    }
    path = output_dir / "storm.json"
    report.write(results, path)
    for key, figure in figures.items():
        print(
            f"bench: storm: {key:<24} median {figure['median']:.3f} s  "
            f"min {figure['min']:.3f} max {figure['max']:.3f} (spread {figure['spread_pct']}%)"
        )
    for key, ratio in ratios.items():
        print(
            f"bench: storm: recover/plain {key:<16} {ratio['ratio_of_medians']:.2f} "
            f"(paired {ratio['paired_min']:.2f}..{ratio['paired_max']:.2f})"
        )
    print(f"bench: wrote {path}", flush=True)
    return results
