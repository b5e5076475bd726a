"""`python bench/run.py`: bootstrap, measure each router in turn, write results and chart."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from . import ceiling, report, scenarios
from .bootstrap import BENCH_DIR, REPO_DIR, TOOLS_VENV, Tools, ensure_tools_venv, prepare_tools
from .errors import BenchError
from .loadgen import Loadgen
from .report import RouterResults
from .routers import CrossbarSpec, RouterSpec, RunningRouter, TelegraphySpec
from .scenarios import Measurement
from .settings import FULL, QUICK, BenchSettings

ROUTER_NAMES = ("telegraphy", "crossbar")
GROUPS = ("gateway", "publisher", "django", "history", "storm", "scale", "filters", "soak", "fuzz")
GATEWAY = REPO_DIR / ".venv" / "bin" / "telegraphy-gateway"
RESULTS_DIR = BENCH_DIR / "results"

Step = Callable[[RunningRouter, Loadgen], Measurement]


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the Telegraphy gateway and Crossbar.")
    parser.add_argument(
        "--routers",
        default=",".join(ROUTER_NAMES),
        help="comma-separated routers to measure (default: telegraphy,crossbar)",
    )
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--groups",
        default=",".join(GROUPS),
        help="comma-separated scenario groups: gateway (routers compared), publisher "
        "(telegraphy-core's publisher into the gateway), django (model save cost and "
        "save-to-subscriber latency), history (fan-out cost of history: memory/SQLite "
        "engines), storm (reconnect storm after a restart, with and without recovery), "
        "filters (fan-out cost of subscription filters, in process), soak (10,000 sessions "
        "for 10 minutes under a steady stream: memory and latency over time), fuzz (the "
        "gateway's fuzz test with many more examples); default: all",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="instead of the groups: this checkout's gateway against REV's (a git revision), "
        "fan-out and latency alternating, paired ratios in results/against.json",
    )
    args = parser.parse_args(argv)
    args.groups = [name.strip() for name in args.groups.split(",") if name.strip()]
    if set(args.groups) - set(GROUPS) or not args.groups:
        parser.error(f"--groups takes names from {', '.join(GROUPS)}")
    args.routers = [name.strip() for name in args.routers.split(",") if name.strip()]
    unknown = set(args.routers) - set(ROUTER_NAMES)
    if unknown or not args.routers:
        parser.error(f"--routers takes names from {', '.join(ROUTER_NAMES)}")
    return args


def _spec(name: str, tools: Tools) -> RouterSpec:
    if name == "crossbar":
        return CrossbarSpec(tools.crossbar, tools.tools_python)
    if not GATEWAY.exists():
        raise BenchError(
            f"{GATEWAY} is missing: install telegraphy-gateway into the root .venv, "
            "or run with --routers crossbar"
        )
    return TelegraphySpec(GATEWAY)


def _steps(s: BenchSettings) -> list[tuple[str, Step]]:
    """Each step gets a freshly started router, so no scenario inherits another's state."""
    fanouts: list[tuple[str, Step]] = [
        (f"fan-out to {n} subscribers", partial(scenarios.fanout, s=s, subscribers=n))
        for n in s.fanout_subscribers
    ]
    return [
        (f"memory of {s.idle_connections} idle connections", partial(scenarios.idle_memory, s=s)),
        *fanouts,
        ("latency", partial(scenarios.latency, s=s)),
        ("sessions/s anonymous", partial(scenarios.sessions, s=s, auth="anonymous")),
        ("sessions/s WAMP-CRA", partial(scenarios.sessions, s=s, auth="wampcra")),
    ]


def _measure_router(spec: RouterSpec, tools: Tools, s: BenchSettings) -> RouterResults:
    results = RouterResults(spec.name, spec.version(), figures={}, details={})
    for title, step in _steps(s):
        print(f"bench: {spec.name}: {title}", flush=True)
        started = time.monotonic()
        try:
            with RunningRouter(spec, s.router_start_timeout_s) as router:
                measurement = step(router, Loadgen(tools.wampload, router.port))
        except BenchError as error:
            print(f"bench: {spec.name}: {title} FAILED: {error}", file=sys.stderr, flush=True)
            results.details[title] = {"error": str(error)}
            continue
        results.figures.update(measurement.figures)
        results.details[title] = {
            **measurement.details,
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        print(f"bench: {spec.name}: {title}: {measurement.figures}", flush=True)
    return results


def _draw_chart(tools: Tools, results_path: Path, chart_path: Path) -> None:
    script = Path(__file__).with_name("chart.py")
    command = [str(tools.tools_python), str(script), str(results_path), str(chart_path)]
    if subprocess.run(command, check=False).returncode != 0:
        raise BenchError("drawing the chart failed")


def run(args: argparse.Namespace) -> int:
    if args.against:
        from . import against

        if not GATEWAY.exists():
            raise BenchError(f"{GATEWAY} is missing: --against needs telegraphy-gateway")
        against.run(GATEWAY, args.output_dir, args.against, quick=args.quick)
        return 0
    failed = run_gateway(args) if "gateway" in args.groups else 0
    if "publisher" in args.groups:
        failed |= run_publisher(args)
    if "django" in args.groups:
        failed |= run_django(args)
    for name in ("history", "storm", "scale"):
        if name in args.groups:
            failed |= run_charted_group(name, args)
    if "filters" in args.groups:
        failed |= run_filters(args)
    if "soak" in args.groups:
        failed |= run_charted_group("soak", args)
    if "fuzz" in args.groups:
        failed |= run_fuzz(args)
    return failed


def _draw_group_chart(results_path: Path) -> None:
    """The chart of a history, storm, scale or soak results file, drawn in the tools
    environment."""
    ensure_tools_venv()
    script = Path(__file__).with_name("chart_groups.py")
    chart_path = results_path.with_suffix(".png")
    command = [str(TOOLS_VENV / "bin" / "python"), str(script), str(results_path), str(chart_path)]
    if subprocess.run(command, check=False).returncode != 0:
        raise BenchError(f"drawing {chart_path.name} failed")
    print(f"bench: wrote {chart_path}", flush=True)


def run_charted_group(name: str, args: argparse.Namespace) -> int:
    """A group with a module of its own in telebench (history, storm, scale, soak) that
    measures a gateway process and writes <name>.json; then its chart. The modules are
    imported here: soak reads /metrics with prometheus_client, from the root .venv."""
    import importlib

    if not GATEWAY.exists():
        raise BenchError(f"{GATEWAY} is missing: the {name} group needs telegraphy-gateway")
    importlib.import_module(f".{name}", __package__).run(GATEWAY, args.output_dir, quick=args.quick)
    _draw_group_chart(args.output_dir / f"{name}.json")
    return 0


FUZZ_EXAMPLES = {False: 5000, True: 500}  # per serializer and state; the test's default is 60
FUZZ_TEST = REPO_DIR / "packages" / "telegraphy-gateway" / "tests" / "test_fuzz.py"


def run_fuzz(args: argparse.Namespace) -> int:
    """The gateway's fuzz test (hypothesis) with many more examples; its outcome is the test's."""
    examples = FUZZ_EXAMPLES[args.quick]
    print(f"bench: fuzz: {examples} examples per case", flush=True)
    command = [sys.executable, "-m", "pytest", str(FUZZ_TEST), "-q", "-p", "no:cacheprovider"]
    env = {**os.environ, "TELEGRAPHY_FUZZ_EXAMPLES": str(examples)}
    started = time.monotonic()
    outcome = subprocess.run(command, cwd=REPO_DIR, env=env, check=False)
    print(f"bench: fuzz: {'passed' if outcome.returncode == 0 else 'FAILED'} in "
          f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    return 0 if outcome.returncode == 0 else 1


def run_filters(args: argparse.Namespace) -> int:
    from . import filters  # imports the gateway: it runs in this process

    filters.run(args.output_dir, quick=args.quick)
    return 0


def run_django(args: argparse.Namespace) -> int:
    from django_bench.measure import run as measure_django  # imports Django and the app

    if not GATEWAY.exists():
        raise BenchError(f"{GATEWAY} is missing: the django group needs telegraphy-gateway")
    measure_django(GATEWAY, args.output_dir, quick=args.quick)
    return 0


def run_publisher(args: argparse.Namespace) -> int:
    from publisher.measure import run as measure_publisher  # imports telegraphy-core

    if not GATEWAY.exists():
        raise BenchError(f"{GATEWAY} is missing: the publisher group needs telegraphy-gateway")
    measure_publisher(GATEWAY, args.output_dir, quick=args.quick)
    return 0


def run_gateway(args: argparse.Namespace) -> int:
    settings = QUICK if args.quick else FULL
    tools = prepare_tools()
    specs = [_spec(name, tools) for name in args.routers]
    print("bench: measuring the load generator's ceiling", flush=True)
    generator = ceiling.measure(tools.wampload, tools.wampblast, settings)
    routers = {spec.name: _measure_router(spec, tools, settings) for spec in specs}
    results = report.build(routers, generator, settings, quick=args.quick)
    results_path = args.output_dir / "gateway.json"
    report.write(results, results_path)
    _draw_chart(tools, results_path, args.output_dir / "gateway.png")
    print(report.summary(results))
    print(f"bench: wrote {results_path} and {results_path.with_suffix('.png')}")
    failed = any("error" in d for r in routers.values() for d in r.details.values())
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
