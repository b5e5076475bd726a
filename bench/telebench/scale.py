"""The scale group: the Redis engine against the embedded one, and two gateway workers
against one (`--workers 2`), on the saturating fan-out and fixed-rate scenarios of the history
group; and the Redis engine's own ceiling (publications per second through one Redis server).
A redis-server on a free port is started for the run. Results in results/scale.json."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import report, spread
from .errors import BenchError
from .history import Group, Variant
from .history import run as run_group
from .routers import free_port

CEILING_PUBLICATIONS = 20_000
CEILING_REPEATS = 3


def _variants(url: str) -> tuple[Variant, ...]:
    redis = f'[engine]\nkind = "redis"\nurl = "{url}"\n\n[history]\nsize = 1000\nttl = 300\n'
    return (
        Variant(
            "sqlite_one_process",
            "SQLite engine, one process (the default)",
            "(a) SQLite,\none process",
            '[engine]\nkind = "sqlite"\n\n[history]\nsize = 1000\nttl = 300\n',
        ),
        Variant(
            "redis_one_process",
            "Redis engine, one process",
            "(b) Redis,\none process",
            redis,
        ),
        Variant(
            "redis_two_workers",
            "Redis engine, --workers 2",
            "(c) Redis,\n--workers 2",
            redis,
            args=("--workers", "2"),
            processes=2,
        ),
    )


class RedisProcess:
    def __init__(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise BenchError(
                "the scale and soak groups need redis-server: apt-get install redis-server"
            )
        self._dir = tempfile.TemporaryDirectory(prefix="bench-redis-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self._dir.name,
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                raise BenchError("redis-server did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._dir.cleanup()


def _ceiling(redis: RedisProcess) -> dict[str, Any]:
    script = Path(__file__).with_name("redis_ceiling.py")
    runs = []
    for repeat in range(CEILING_REPEATS):
        print(f"bench: scale: Redis engine ceiling, repeat {repeat + 1}", flush=True)
        done = subprocess.run(
            [sys.executable, str(script), redis.url, str(redis.process.pid),
             str(CEILING_PUBLICATIONS)],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        if done.returncode != 0 or not done.stdout.strip():
            raise BenchError(f"the Redis ceiling run failed:\n{done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    keys = ("publications_per_s", "gateway_cpu_us_per_publication", "redis_cpu_us_per_publication")
    return {key: spread.summary([float(r[key]) for r in runs]) for key in keys} | {"runs": runs}


def add_worker_ratios(results: dict[str, Any]) -> None:
    """Two workers against one, both on Redis (c/b), beside the ratios to the baseline (a)."""
    runs = results["runs"]
    results["ratios_two_workers_to_one"] = {
        key: spread.ratio_summary(
            [float(r[key]) for r in runs["redis_two_workers"]],
            [float(r[key]) for r in runs["redis_one_process"]],
        )
        for key in runs["redis_one_process"][0]
        if isinstance(runs["redis_one_process"][0][key], int | float)
    }


def run(gateway: Path, output_dir: Path, quick: bool) -> dict[str, Any]:
    redis = RedisProcess()
    try:
        group = Group("scale", "Scaling out on Redis", _variants(redis.url))
        results = run_group(gateway, output_dir, quick, group)
        ceiling = _ceiling(redis)
    finally:
        redis.stop()
    add_worker_ratios(results)
    results["redis_ceiling"] = ceiling
    for key, label, short, unit in (
        ("gateway_cpu_us_per_publication", "the gateway's side", "gateway\nprocess", "µs"),
        ("redis_cpu_us_per_publication", "redis-server", "redis-server", "µs"),
    ):
        results["figures"][f"ceiling_{key}"] = {
            "label": f"Redis engine ceiling: CPU per publication, {label}",
            "short": short,
            "unit": unit,
            "better": "lower",
            **ceiling[key],
        }
    rate = ceiling["publications_per_s"]["median"]
    results["panels"].append(
        {
            "title": "Redis engine alone: CPU per publication (lower is better)",
            "keys": [
                "ceiling_gateway_cpu_us_per_publication",
                "ceiling_redis_cpu_us_per_publication",
            ],
            "note": f"{rate:,.0f} publications/s from one process, no subscriber",
        }
    )
    results["redis_ceiling_what"] = (
        f"{CEILING_PUBLICATIONS} publications (200-byte payloads, event ids, 10 topics, history "
        "1000) through the Redis engine from one process with 512 waiting at a time, no "
        "subscriber; each acknowledged once kept in Redis and received back on the channel."
    )
    path = output_dir / "scale.json"
    report.write(results, path)
    figure = ceiling["publications_per_s"]
    print(
        f"bench: scale: Redis engine ceiling {figure['median']:,.0f} publications/s "
        f"(spread {figure['spread_pct']}%), gateway CPU "
        f"{ceiling['gateway_cpu_us_per_publication']['median']:.1f} µs and Redis CPU "
        f"{ceiling['redis_cpu_us_per_publication']['median']:.1f} µs per publication",
        flush=True,
    )
    return results
