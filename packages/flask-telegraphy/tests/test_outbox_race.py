"""Relays hammering one outbox table at once, on a real PostgreSQL server and on SQLite: every
claim is taken by one relay only, and claims follow the table's order. (The process-level
proof, with a gateway and a subscriber, is test_outbox_processes.py.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import outbox_harness
import pytest
from sqlalchemy import Engine, create_engine, insert

from telegraphy.contrib.flask_telegraphy import outbox_metadata, outbox_table
from telegraphy.contrib.flask_telegraphy._outbox import SQLAlchemyOutboxStore, _now

ROWS = 400
RELAYS = 4
postgres = outbox_harness.postgres_fixture


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    where = outbox_harness.database(request, tmp_path)
    url = where.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url if url.startswith("postgresql") else f"sqlite:///{where}")
    outbox_metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_concurrent_claims_take_each_row_once_and_in_order(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(outbox_table),
            [
                {"name": "x.Y", "event_id": f"e{n}", "envelope": "{}", "created": _now()}
                for n in range(ROWS)
            ],
        )
    claims: list[list[int]] = []
    lock = threading.Lock()
    start = threading.Barrier(RELAYS)
    failures: list[BaseException] = []

    def relay() -> None:
        store = SQLAlchemyOutboxStore(engine)
        start.wait()
        try:
            while store.lag() is not None:
                rows = store.claim(3, lease=60)
                if rows:
                    with lock:
                        claims.append([row.id for row in rows])
                    store.settle(rows)
        except BaseException as e:  # reported below, in the test's thread
            failures.append(e)

    threads = [threading.Thread(target=relay) for _ in range(RELAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    taken = [row_id for claim in claims for row_id in claim]
    assert len(taken) == ROWS and len(set(taken)) == ROWS  # every row, none twice
    assert taken == sorted(taken)  # one lease at a time: claims follow the table's order
