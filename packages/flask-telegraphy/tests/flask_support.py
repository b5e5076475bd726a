"""What the tests share besides fixtures: the secret, and apps with Telegraphy on them."""

from __future__ import annotations

from typing import Any

from flask import Flask

from telegraphy.contrib.flask_telegraphy import Telegraphy

SECRET = "flask-tests-secret-0123456789"


def make_app(**config: Any) -> Flask:
    """A Flask app with Telegraphy on it; nothing listens on its gateway URL."""
    app = Flask("flask_telegraphy_tests")
    app.config.update(
        TESTING=True,
        SECRET_KEY="flask-tests-key",
        TELEGRAPHY_SECRET=SECRET,
        TELEGRAPHY_GATEWAY_URL="http://127.0.0.1:9",
    )
    app.config.update(config)
    Telegraphy(app)
    return app
