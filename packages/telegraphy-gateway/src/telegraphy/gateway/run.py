"""Running a gateway in this process until SIGINT or SIGTERM: for the CLI and the adapters."""

from __future__ import annotations

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
