"""Say hello through a running gateway: a backend publishes, an anonymous session receives.

Run `make demo` in one terminal, then `.venv/bin/python examples/gateway/hello.py`.
"""

from __future__ import annotations

import argparse

from autobahn.twisted.component import Component, run
from autobahn.wamp.types import PublishOptions
from twisted.internet.defer import Deferred

SECRET = "demo-secret-change-me-0123456789"
TOPIC = "telegraphy.demo.hello"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9000)
    url = f"ws://127.0.0.1:{parser.parse_args().port}/ws"
    listening: Deferred[None] = Deferred()

    reader = Component(transports=url, realm="telegraphy")
    backend = Component(
        transports=url,
        realm="telegraphy",
        authentication={"wampcra": {"authid": "demo-backend", "secret": SECRET}},
    )

    @reader.on_join
    async def read(session, details):  # type: ignore[no-untyped-def]
        def hello(text: str) -> None:
            print(f"anonymous session {details.session} received: {text}")
            session.leave()

        await session.subscribe(hello, TOPIC)
        listening.callback(None)

    @backend.on_join
    async def write(session, details):  # type: ignore[no-untyped-def]
        await listening
        await session.publish(TOPIC, "hello, world", options=PublishOptions(acknowledge=True))
        print(f"backend session {details.session} published to {TOPIC}")
        session.leave()

    run([reader, backend], log_level="info")


if __name__ == "__main__":
    main()
