from flask import Flask, render_template

from telegraphy.contrib.flask_telegraphy import Telegraphy

from .events import register_events
from .models import db

telegraphy = Telegraphy()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///myapp.sqlite3"
    # Shared with the gateway: `flask telegraphy run` reads it from this same configuration.
    app.config["TELEGRAPHY_SECRET"] = "a-long-random-string-of-16-or-more-characters"
    app.config["TELEGRAPHY_GATEWAY_URL"] = "http://127.0.0.1:9000"
    db.init_app(app)
    telegraphy.init_app(app)  # or Telegraphy(app) without a factory
    register_events()

    @app.route("/")
    def index():
        return render_template("index.html")

    with app.app_context():
        db.create_all()
    return app
