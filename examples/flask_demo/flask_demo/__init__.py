"""The Flask demo: the change tracker page, live, on SQLite. `flask --app flask_demo run`.

Not for production: the secrets below are public, and the forms have no CSRF protection.
Environment variables override them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from telegraphy.contrib.flask_telegraphy import Telegraphy

from .models import db

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"  # the stylesheet both demos share
telegraphy = Telegraphy()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, static_folder=SHARED)
    gateway_port = int(os.environ.get("FLASK_DEMO_GATEWAY_PORT", "9000"))
    database = os.environ.get("FLASK_DEMO_DB", str(HERE.parent / "demo.sqlite3"))
    app.config.update(
        SECRET_KEY=os.environ.get("FLASK_SECRET_KEY", "flask-demo-insecure-key-change-me"),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        # Shared with the gateway (`flask telegraphy run` reads it from here too).
        TELEGRAPHY_SECRET=os.environ.get(
            "TELEGRAPHY_SECRET", "demo-shared-secret-change-me-0123456789"
        ),
        TELEGRAPHY_GATEWAY_URL=f"http://127.0.0.1:{gateway_port}",
        TELEGRAPHY_RETRY_MAX_DELAY=2.0,
        # `flask telegraphy run` keeps the gateway's history and client records here.
        TELEGRAPHY_GATEWAY={
            "engine": {
                "path": os.environ.get(
                    "FLASK_DEMO_ENGINE", str(HERE.parent / "telegraphy-gateway.sqlite3")
                )
            }
        },
    )
    app.config.update(config or {})
    db.init_app(app)
    telegraphy.init_app(app)

    from . import events, views

    events.register()
    app.register_blueprint(views.blueprint)
    with app.app_context():
        db.create_all()
    return app
