"""Installs what a run needs on a fresh machine: Crossbar and matplotlib in a bench-owned
virtual environment, and the C load generator compiled from bench/loadgen."""

from __future__ import annotations

import hashlib
import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path

from .errors import BenchError

BENCH_DIR = Path(__file__).resolve().parents[1]
TOOLS_VENV = BENCH_DIR / ".venv-crossbar"
REQUIREMENTS = BENCH_DIR / "requirements-crossbar.txt"
REPO_DIR = BENCH_DIR.parent
LOADGEN_DIR = BENCH_DIR / "loadgen"
BUILD_DIR = BENCH_DIR / "build"

_SHARED_SOURCES = ("ws.c", "buffer.c", "wamp.c", "sha256.c")
_LOADGEN_SOURCES = (
    "main.c",
    "options.c",
    "fanout.c",
    "sessions.c",
    "idle.c",
    "pool.c",
    "client.c",
    "report.c",
    *_SHARED_SOURCES,
)
_BLAST_SOURCES = ("wampblast.c", *_SHARED_SOURCES)
_CFLAGS = ("-O2", "-Wall", "-Wextra", "-D_GNU_SOURCE")


@dataclass(frozen=True)
class Tools:
    """Paths to everything a run executes."""

    tools_python: Path
    crossbar: Path
    wampload: Path
    wampblast: Path


def _requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure_tools_venv() -> None:
    """Creates bench/.venv-crossbar, or refreshes it when the requirements changed."""
    marker = TOOLS_VENV / ".requirements-sha256"
    if marker.exists() and marker.read_text() == _requirements_digest():
        return
    if not (TOOLS_VENV / "bin" / "python").exists():
        print(f"bench: creating {TOOLS_VENV}", flush=True)
        venv.create(TOOLS_VENV, with_pip=True)
    print("bench: installing Crossbar and matplotlib (a few minutes the first time)", flush=True)
    pip = [str(TOOLS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    result = subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=False)
    if result.returncode != 0:
        raise BenchError(f"pip could not install {REQUIREMENTS.name} into {TOOLS_VENV}")
    marker.write_text(_requirements_digest())


def _compile(output: Path, sources: tuple[str, ...]) -> None:
    paths = [LOADGEN_DIR / name for name in sources]
    headers = list(LOADGEN_DIR.glob("*.h"))
    newest_input = max(p.stat().st_mtime for p in [*paths, *headers])
    if output.exists() and output.stat().st_mtime >= newest_input:
        return
    BUILD_DIR.mkdir(exist_ok=True)
    command = ["gcc", *_CFLAGS, "-o", str(output), *map(str, paths)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"compiling {output.name} failed:\n{result.stderr}")


def compile_loadgen() -> tuple[Path, Path]:
    """bench/build/wampload and bench/build/wampblast, compiled if out of date."""
    wampload, wampblast = BUILD_DIR / "wampload", BUILD_DIR / "wampblast"
    _compile(wampload, _LOADGEN_SOURCES)
    _compile(wampblast, _BLAST_SOURCES)
    return wampload, wampblast


def prepare_tools() -> Tools:
    ensure_tools_venv()
    wampload, wampblast = compile_loadgen()
    return Tools(
        tools_python=TOOLS_VENV / "bin" / "python",
        crossbar=TOOLS_VENV / "bin" / "crossbar",
        wampload=wampload,
        wampblast=wampblast,
    )
