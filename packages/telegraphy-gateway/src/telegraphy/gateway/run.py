"""Running a gateway in this process until SIGINT or SIGTERM (SIGHUP reloads its configuration,
reload.py): for the CLI and the adapters."""

from __future__ import annotations

import gc
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import cast

from twisted.internet import reactor
from twisted.internet.interfaces import IReactorThreads
from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    jsonFileLogObserver,
    textFileLogObserver,
)

from .config import GatewayConfig
from .errors import GatewayError
from .logs import EventNames
from .reload import Reloader
from .server import Gateway
from .transport.limits import AcceptErrorLog

log = Logger()


class CannotListen(GatewayError):
    """The gateway's port could not be opened (in use, or not allowed)."""


def serve(
    config: GatewayConfig,
    *,
    reuse_port: bool = False,
    reload: Callable[[], GatewayConfig] | None = None,
) -> None:
    """Log to stdout, listen, and run until stopped; the stop is graceful (`Gateway.stop`).
    With `reuse_port`, this process is one worker of several on the same port. With `reload`
    (which reads the configuration again), SIGHUP applies what it changes (reload.py)."""
    filtering = start_logging(config.log_level, config.log_format)
    gateway = Gateway(config)
    tune_garbage_collection()
    # Signals can be handled only in the main thread (not under Django's autoreloader). Until
    # the reactor runs and installs its own handlers, a SIGTERM still stops cleanly.
    main = threading.current_thread() is threading.main_thread()
    if main:
        signal.signal(signal.SIGTERM, lambda *_: reactor.callLater(0, reactor.stop))
    if main and reload is not None:
        threads = cast(IReactorThreads, reactor)  # the safe way in from a signal handler
        reloader = Reloader(gateway, reload, lambda level: set_log_level(filtering, level))
        signal.signal(signal.SIGHUP, lambda *_: threads.callFromThread(reloader))
    try:
        gateway.listen(reuse_port=reuse_port)
    except Exception as e:  # CannotListenError and friends: say why and stop
        raise CannotListen(str(e)) from e
    reactor.addSystemEventTrigger("before", "shutdown", gateway.stop)
    if main:
        reactor.callWhenRunning(_stop_once_on_signals)
    reactor.run(installSignalHandlers=main)  # type: ignore[call-arg]  # not in IReactorCore


def _stop_once_on_signals() -> None:
    """SIGTERM or SIGINT starts the graceful stop; another one while it runs changes nothing
    (Twisted's own handlers would stop a stopping reactor again, and log a traceback)."""
    threads = cast(IReactorThreads, reactor)
    stopping = False

    def stop(signum: int) -> None:
        nonlocal stopping
        name = signal.Signals(signum).name
        if not stopping:
            stopping = True
            log.info("Received {name}, shutting down.", name=name, event="gateway.signal")
            reactor.stop()
        else:
            log.info(
                "Received {name} again: already shutting down", name=name, event="gateway.signal"
            )

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _: threads.callFromThread(stop, received))


GC_THRESHOLDS = (50_000, 20, 100)
"""Python's default (700, 10, 10) collects the young generation every few publications under
load, and every publication kept in history adds to what the full collections walk: measured
with bench/run.py --groups history, the defaults cost history about 40% of the fan-out."""


def tune_garbage_collection() -> None:
    """Set what was loaded at start aside from collection, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def start_logging(level: str, form: str) -> LogLevelFilterPredicate:
    """Log to stdout in `form`, from `level` up; the filter returned can change the level."""
    observer = (
        EventNames(jsonFileLogObserver(sys.stdout, recordSeparator=""))
        if form == "json"
        else textFileLogObserver(sys.stdout)
    )
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.levelWithName(level))
    # Accept errors are throttled before the level filter: the line it lets through is a warning.
    filtered = FilteringLogObserver(observer, [predicate])
    globalLogBeginner.beginLoggingTo(
        [AcceptErrorLog(filtered, time.monotonic)],  # type: ignore[list-item]
        redirectStandardIO=False,
    )
    return predicate


def set_log_level(predicate: LogLevelFilterPredicate, level: str) -> None:
    predicate.setLogLevelForNamespace("", LogLevel.levelWithName(level))
