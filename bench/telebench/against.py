"""`bench/run.py --against REV`: the gateway of this checkout against the gateway of another
revision, in the same run: fan-out to 1000 and to 100 subscribers and the fixed-rate latency
scenario, the two alternating (ABBA...) for `repeats` rounds, each figure given as the median
and range of the paired ratios (this checkout / REV). Results in results/against.json.

REV's gateway runs from a `git worktree` of it, on the same root .venv (its source first on
PYTHONPATH), so only the gateway's own code differs between the two.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from . import report, scenarios
from .bootstrap import compile_loadgen
from .errors import BenchError
from .loadgen import Loadgen
from .routers import RunningRouter, TelegraphySpec
from .settings import FULL, QUICK

REPO_DIR = Path(__file__).resolve().parents[2]
GATEWAY_SRC = Path("packages") / "telegraphy-gateway" / "src"
SCENARIOS = ("fanout_1000", "fanout_100", "latency")


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO_DIR, capture_output=True, text=True, check=False)


def _worktree(revision: str, into: Path) -> str:
    """Check `revision` out into `into`; its full commit id."""
    found = _git("rev-parse", "--verify", f"{revision}^{{commit}}")
    if found.returncode != 0:
        raise BenchError(f"--against: {revision!r} is not a commit of this repository")
    commit = found.stdout.strip()
    added = _git("worktree", "add", "--detach", "--force", str(into), commit)
    if added.returncode != 0:
        raise BenchError(f"--against: git worktree add failed: {added.stderr.strip()}")
    return commit


def _launcher(gateway: Path, source: Path, directory: Path) -> Path:
    """A script that runs the root .venv's gateway on `source` instead of this checkout's."""
    script = directory / "telegraphy-gateway"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{source}" exec "{gateway}" "$@"\n')
    script.chmod(0o755)
    return script


def _measure(path: Path, wampload: Path, quick: bool) -> dict[str, float]:
    settings = QUICK if quick else FULL
    figures: dict[str, float] = {}
    for scenario in SCENARIOS:
        with RunningRouter(TelegraphySpec(path), settings.router_start_timeout_s) as router:
            gen = Loadgen(wampload, router.port)
            if scenario == "latency":
                measured = scenarios.latency(router, gen, settings)
            else:
                measured = scenarios.fanout(router, gen, settings, int(scenario.split("_")[1]))
        figures.update(measured.figures)
        cpu = measured.details.get("router_cpu")
        if cpu is not None:
            figures[f"{scenario}_router_cpu"] = cpu
    return figures


def _paired(this: list[dict[str, float]], other: list[dict[str, float]]) -> dict[str, Any]:
    compared = {}
    for key in this[0]:
        ratios = [a[key] / b[key] for a, b in zip(this, other, strict=True) if b.get(key)]
        compared[key] = {
            "this": statistics.median(a[key] for a in this),
            "against": statistics.median(b[key] for b in other),
            "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
            "ratio_min": round(min(ratios), 3) if ratios else None,
            "ratio_max": round(max(ratios), 3) if ratios else None,
        }
    return compared


def run(gateway: Path, output_dir: Path, revision: str, quick: bool) -> dict[str, Any]:
    repeats = 1 if quick else 3
    wampload, _ = compile_loadgen()
    with tempfile.TemporaryDirectory(prefix="bench-against-") as tmp:
        tree = Path(tmp) / "tree"
        commit = _worktree(revision, tree)
        try:
            other = _launcher(gateway, tree / GATEWAY_SRC, Path(tmp))
            runs: dict[str, list[dict[str, float]]] = {"this": [], "against": []}
            for repeat in range(repeats):
                order = [("this", gateway), ("against", other)]
                for name, path in order if repeat % 2 == 0 else order[::-1]:
                    print(f"bench: against: {name}, repeat {repeat + 1}/{repeats}", flush=True)
                    runs[name].append(_measure(path, wampload, quick))
        finally:
            _git("worktree", "remove", "--force", str(tree))
    results = {
        "title": f"This checkout against {revision}",
        "this_commit": _git("rev-parse", "HEAD").stdout.strip(),
        "dirty": bool(_git("status", "--porcelain").stdout.strip()),
        "against_commit": commit,
        "repeats": repeats,
        "runs": runs,
        "compared": _paired(runs["this"], runs["against"]),
    }
    report.write(results, output_dir / "against.json")
    for key, figure in results["compared"].items():
        print(
            f"bench: against: {key}: {figure['this']:g} vs {figure['against']:g}, ratio "
            f"{figure['ratio_median']} ({figure['ratio_min']}-{figure['ratio_max']})",
            flush=True,
        )
    print(f"bench: wrote {output_dir / 'against.json'}", flush=True)
    return results
