"""Running a gateway in this process until SIGINT or SIGTERM: for the CLI and the adapters."""

from __future__ import annotations

import gc
import signal
import sys
import threading

from twisted.internet import reactor
from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    jsonFileLogObserver,
    textFileLogObserver,
)

from .config import GatewayConfig
from .errors import GatewayError
from .server import Gateway


class CannotListen(GatewayError):
    """The gateway's port could not be opened (in use, or not allowed)."""


def serve(config: GatewayConfig) -> None:
    """Log to stdout, listen, and run until stopped; the stop is graceful (`Gateway.stop`)."""
    start_logging(config.log_level, config.log_format)
    gateway = Gateway(config)
    tune_garbage_collection()
    # Signals can be handled only in the main thread (not under Django's autoreloader). Until
    # the reactor runs and installs its own handlers, a SIGTERM still stops cleanly.
    main = threading.current_thread() is threading.main_thread()
    if main:
        signal.signal(signal.SIGTERM, lambda *_: reactor.callLater(0, reactor.stop))
    try:
        gateway.listen()
    except Exception as e:  # CannotListenError and friends: say why and stop
        raise CannotListen(str(e)) from e
    reactor.addSystemEventTrigger("before", "shutdown", gateway.stop)
    reactor.run(installSignalHandlers=main)  # type: ignore[call-arg]  # not in IReactorCore


GC_THRESHOLDS = (50_000, 20, 100)
"""Python's default (700, 10, 10) collects the young generation every few publications under
load, and every publication kept in history adds to what the full collections walk: measured
with bench/run.py --groups history, the defaults cost history about 40% of the fan-out."""


def tune_garbage_collection() -> None:
    """Set what was loaded at start aside from collection, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def start_logging(level: str, form: str) -> None:
    observer = (
        jsonFileLogObserver(sys.stdout, recordSeparator="")
        if form == "json"
        else textFileLogObserver(sys.stdout)
    )
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.levelWithName(level))
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(observer, [predicate])], redirectStandardIO=False
    )
