"""Runs the C load generator (bench/loadgen) and reads its JSON-lines report."""

from __future__ import annotations

import json
import selectors
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BenchError
from .settings import BACKEND_AUTHID, BACKEND_SECRET, HOST, REALM, WS_PATH

Report = dict[str, Any]
MarkHandler = Callable[[str], None]


@dataclass(frozen=True)
class Loadgen:
    binary: Path
    port: int

    def command(self, mode: str, options: Sequence[str]) -> list[str]:
        return [
            str(self.binary),
            "--mode",
            mode,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--path",
            WS_PATH,
            "--realm",
            REALM,
            "--authid",
            BACKEND_AUTHID,
            "--secret",
            BACKEND_SECRET,
            *options,
        ]


class _ReportReader:
    """Reads JSON lines from a running generator with an overall deadline."""

    def __init__(self, process: subprocess.Popen[str], timeout_s: float) -> None:
        self._process = process
        self._deadline = time.monotonic() + timeout_s
        self._selector = selectors.DefaultSelector()
        assert process.stdout is not None
        self._selector.register(process.stdout, selectors.EVENT_READ)

    def next_report(self) -> Report | None:
        """The next report line, or None at end of output."""
        assert self._process.stdout is not None
        while True:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                self._process.kill()
                raise BenchError("load generator did not finish in time")
            if not self._selector.select(timeout=min(remaining, 1.0)):
                continue
            line = self._process.stdout.readline()
            if not line:
                return None
            if line.startswith("{"):
                report: Report = json.loads(line)
                return report


def _start(command: list[str], *, with_stdin: bool) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE if with_stdin else subprocess.DEVNULL,
        text=True,
    )


def _finish(process: subprocess.Popen[str], result: Report | None) -> Report:
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0 or result is None:
        raise BenchError(f"load generator failed ({process.returncode}): {stderr.strip()}")
    return result


def run(
    loadgen: Loadgen,
    mode: str,
    options: Sequence[str],
    timeout_s: float,
    on_mark: MarkHandler | None = None,
) -> Report:
    """Runs one measurement; `on_mark` sees "publishing", "window_start", "window_end"."""
    process = _start(loadgen.command(mode, options), with_stdin=False)
    reader = _ReportReader(process, timeout_s)
    result = None
    while (report := reader.next_report()) is not None:
        if report["event"] == "result":
            result = report
        elif on_mark is not None:
            on_mark(str(report["event"]))
    return _finish(process, result)


@contextmanager
def idle_connections(
    loadgen: Loadgen, options: Sequence[str], timeout_s: float
) -> Iterator[Report]:
    """Holds the generator's idle sessions open for the body of the `with` block."""
    process = _start(loadgen.command("idle", options), with_stdin=True)
    reader = _ReportReader(process, timeout_s)
    ready = reader.next_report()
    if ready is None or ready["event"] != "ready":
        _finish(process, None)
    assert ready is not None
    try:
        yield ready
    finally:
        if process.stdin is not None:
            process.stdin.close()
    _finish(process, reader.next_report())
