"""`telegraphy-gateway --workers N`: N gateway processes on one port, joined through a shared
engine, under a parent that restarts a worker that dies and stops them all on SIGTERM
(docs/scaling.rst)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

from .config import GatewayConfig
from .errors import ConfigError

WORKER_FLAG = "--worker"
"""Given to each worker's command line: listen beside the others (SO_REUSEPORT)."""
POLL = 0.2
"""Seconds between two looks at the workers."""
EARLY = 5.0
"""A worker that exits within this many seconds of its start failed to start."""
MAX_EARLY_EXITS = 5
"""Consecutive failed starts of one worker after which the parent gives up."""
STOP_TIMEOUT = 60.0
"""Seconds the parent waits for its workers to drain after SIGTERM before it kills them."""


def check_workers(config: GatewayConfig, workers: int) -> None:
    """`ConfigError` when `workers` processes cannot run this configuration."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if workers == 1:
        return
    if config.engine.kind != "redis":
        raise ConfigError(
            f"--workers {workers} needs an engine that several processes can share, and "
            f'[engine] kind = "{config.engine.kind}" keeps everything in one process: set '
            '[engine] kind = "redis" and its url (see the Scaling out page of the docs)'
        )
    if config.port == 0:
        raise ConfigError(f"--workers {workers} needs a fixed --port, not 0")


@dataclass
class Worker:
    number: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    early_exits: int = 0


class Supervisor:
    """Starts the workers, restarts one that dies, forwards SIGTERM/SIGINT to all, and SIGHUP
    too (each worker reads the configuration file again)."""

    def __init__(self, command: Sequence[str], workers: int) -> None:
        self._command = [*command, WORKER_FLAG]
        self._count = workers
        self._workers: list[Worker] = []
        self._stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._reload)
        self._say(f"starting {self._count} workers")
        self._workers = [self._spawn(n) for n in range(1, self._count + 1)]
        while not self._stopping:
            for index, worker in enumerate(self._workers):
                code = worker.process.poll()
                if code is None or self._stopping:
                    continue
                failed = self._exited(worker, code)
                if failed is not None:
                    self._stop_all()
                    return failed
                self._workers[index] = self._respawn(worker)
            time.sleep(POLL)
        return self._stop_all()

    def _exited(self, worker: Worker, code: int) -> int | None:
        """A worker exited on its own: None to restart it, or the parent's exit code."""
        early = time.monotonic() - worker.started < EARLY
        self._say(f"worker {worker.number} (pid {worker.process.pid}) exited with {code}")
        if early and code in (1, 2):  # cannot listen, or a configuration error: say so, stop
            return code
        if early:
            worker.early_exits += 1
            if worker.early_exits >= MAX_EARLY_EXITS:
                self._say(f"worker {worker.number} keeps failing at start; stopping")
                return 1
        else:
            worker.early_exits = 0
        return None

    def _spawn(self, number: int, early_exits: int = 0) -> Worker:
        process = subprocess.Popen(self._command)
        self._say(f"worker {number} started (pid {process.pid})")
        return Worker(number, process, early_exits=early_exits)

    def _respawn(self, worker: Worker) -> Worker:
        if worker.early_exits:
            time.sleep(min(5.0, 0.5 * 2**worker.early_exits))  # do not spin on a failing start
        return self._spawn(worker.number, worker.early_exits)

    def _reload(self, signum: int, frame: FrameType | None) -> None:
        running = [w for w in self._workers if w.process.poll() is None]
        self._say(f"SIGHUP: {len(running)} workers reload the configuration")
        for worker in running:
            worker.process.send_signal(signal.SIGHUP)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self) -> int:
        """SIGTERM to every worker (each drains its sessions), then wait for them."""
        self._stopping = True
        running = [w for w in self._workers if w.process.poll() is None]
        for worker in running:
            worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in running:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"worker {worker.number} did not stop in time; killing it")
                worker.process.kill()
                worker.process.wait()
        self._say("all workers stopped")
        return 0

    @staticmethod
    def _say(text: str) -> None:
        print(f"telegraphy-gateway: {text}", file=sys.stderr, flush=True)


def worker_command(argv: Sequence[str]) -> list[str]:
    """The command line of one worker: this program with the same arguments, less --workers."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            kept.append(arg)
    return [sys.executable, "-m", "telegraphy.gateway", *kept]
