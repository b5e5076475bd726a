"""Fixtures for the Flask extension's tests: apps, a SQLite database, a clean registry."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from telegraphy.contrib.flask_telegraphy import events

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DEMO = ROOT / "examples" / "flask_demo"

# The helpers here (flask_support, flask_models, flask_processes) and the demo (flask_demo)
# are imported by the tests. Appended, not prepended: the gateway's tests import their own
# `conftest` by name.
for path in (HERE, DEMO):
    if str(path) not in sys.path:
        sys.path.append(str(path))

from flask_models import Base  # noqa: E402
from flask_support import make_app  # noqa: E402


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    """Each test registers its own definitions; the registry is process-wide."""
    saved = dict(events._events), dict(events._channels)
    events._events.clear()
    events._channels.clear()
    yield
    events._events.clear()
    events._channels.clear()
    events._events.update(saved[0])
    events._channels.update(saved[1])


@pytest.fixture
def app() -> Flask:
    return make_app()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a real SQLite file holding flask_models' tables."""
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    Base.metadata.create_all(engine)
    yield sessionmaker(engine)
    engine.dispose()
