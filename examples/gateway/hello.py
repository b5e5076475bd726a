"""Say hello through a gateway: a backend publishes, an anonymous session receives.

Start a gateway with this directory's configuration, from the repository's root:

    .venv/bin/telegraphy-gateway --config examples/gateway/telegraphy.toml

then, in a second terminal, `.venv/bin/python examples/gateway/hello.py`. It exits 0 once the
anonymous session received the greeting, and 1 (without retrying) when it cannot connect or is
refused: `make demo` runs another gateway, configured by the Django demo, without this file's
backend and public topic.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from autobahn.twisted.component import Component, run
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions
from twisted.internet.defer import Deferred

SECRET = "demo-secret-change-me-0123456789"  # the backend's, in telegraphy.toml
TOPIC = "telegraphy.demo.hello"  # public in telegraphy.toml


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9000)
    url = f"ws://127.0.0.1:{parser.parse_args().port}/ws"
    transport = {"type": "websocket", "url": url, "max_retries": 0}  # fail, never retry
    listening: Deferred[None] = Deferred()
    received: list[str] = []
    reading: list[Any] = []

    reader = Component(transports=[transport], realm="telegraphy")
    backend = Component(
        transports=[transport],
        realm="telegraphy",
        authentication={"wampcra": {"authid": "demo-backend", "secret": SECRET}},
    )

    @reader.on_join
    async def read(session: Any, details: Any) -> None:
        def hello(text: str) -> None:
            say(f"anonymous session {details.session} received: {text}")
            received.append(text)
            session.leave()

        reading.append(session)
        try:
            await session.subscribe(hello, TOPIC)
        except ApplicationError as e:  # the topic is not public on this gateway
            say(f"cannot subscribe to {TOPIC}: {e.error}")
            reading.remove(session)
            session.leave()
            return
        listening.callback(None)

    @backend.on_join
    async def write(session: Any, details: Any) -> None:
        await listening
        await session.publish(TOPIC, "hello, world", options=PublishOptions(acknowledge=True))
        say(f"backend session {details.session} published to {TOPIC}")
        session.leave()

    @backend.on_leave
    def stop_reading(session: Any, details: Any) -> None:
        if not received:  # refused (no such backend on this gateway): the reader waits in vain
            say(f"backend session ended: {details.reason} {details.message or ''}")
            for reader_session in reading:
                if reader_session.is_attached():
                    reader_session.leave()

    with contextlib.suppress(SystemExit):  # run() exits 0 whether the components succeeded
        run([reader, backend], log_level="warn")
    return 0 if received == ["hello, world"] else 1


def say(line: str) -> None:
    # autobahn's logging takes over sys.stdout and shows it only at log level info.
    print(line, file=sys.__stdout__, flush=True)


if __name__ == "__main__":
    sys.exit(main())
