"""Publish events from any Python program, with telegraphy-core alone (no web framework).

Start a gateway (`make demo`, or `.venv/bin/telegraphy-gateway --config
examples/gateway/telegraphy.toml`), watch with `examples/gateway/hello.py`-style subscribers or
a page, then:

    .venv/bin/python examples/publish/send_events.py --count 5

The settings come from the gateway's own TOML file (its secret, host and port).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from telegraphy.core import Event, Publisher, Settings

CONFIG = Path(__file__).parents[1] / "gateway" / "telegraphy.toml"


class OrderPaid(Event):
    """A custom event with typed, validated fields."""

    name = "shop.OrderPaid"
    order_id: int
    total: Decimal
    paid_at: datetime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()

    publisher = Publisher(Settings.from_toml(args.config))
    for n in range(1, args.count + 1):
        OrderPaid(order_id=n, total=Decimal("9.90") * n, paid_at=datetime.now(UTC)).send(publisher)
    # send() returned at once; flush() waits until the gateway has accepted everything.
    delivered = publisher.flush(timeout=10)
    stats = publisher.stats
    publisher.close()
    print(f"sent {stats.sent}, delivered {stats.delivered}, all delivered: {delivered}")


if __name__ == "__main__":
    main()
