"""A small Flask-SQLAlchemy app with the outbox on, run as its own process by the outbox tests.

    python flask_outbox_site.py serve PORT        a web process (wsgiref) with the relay inside
    python flask_outbox_site.py migrate           create the tables (the outbox's included)
    python flask_outbox_site.py create N          commit N notes t0..tN-1 in one transaction
    python flask_outbox_site.py <flask command>   e.g. telegraphy relay --status

The environment says where things are: OUTBOX_DB (a SQLite path or a postgresql:// URL),
OUTBOX_GATEWAY_PORT, OUTBOX_SECRET, and optionally OUTBOX_POLL_INTERVAL and OUTBOX_BATCH_SIZE.
GET /write?title=T commits a note (&rollback=1 rolls it back; &kill=1 makes the process kill
itself with SIGKILL right after COMMIT, before anything else runs).
"""

from __future__ import annotations

import os
import signal
import sys

from flask import Flask, request
from flask.cli import FlaskGroup
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from telegraphy.contrib.flask_telegraphy import BaseEventModel, Telegraphy, outbox_metadata


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Note(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))


class NoteEvents(BaseEventModel):
    model = Note
    name = "outbox_site.Note"


def database_url() -> str:
    where = os.environ["OUTBOX_DB"]
    if where.startswith("postgresql://"):
        return where.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{where}"


def make_app() -> Flask:
    app = Flask("flask_outbox_site")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url(),
        TELEGRAPHY_SECRET=os.environ["OUTBOX_SECRET"],
        TELEGRAPHY_GATEWAY_URL=f"http://127.0.0.1:{os.environ['OUTBOX_GATEWAY_PORT']}",
        TELEGRAPHY_RETRY_MAX_DELAY=0.5,
        TELEGRAPHY_BATCH_SIZE=int(os.environ.get("OUTBOX_BATCH_SIZE", "100")),
        TELEGRAPHY_OUTBOX=True,
        TELEGRAPHY_OUTBOX_POLL_INTERVAL=float(os.environ.get("OUTBOX_POLL_INTERVAL", "0.2")),
    )
    db.init_app(app)
    Telegraphy(app)
    NoteEvents().register()
    app.add_url_rule("/write", "write", write)
    app.add_url_rule("/ping", "ping", lambda: "pong")
    return app


def write() -> str:
    session = db.session()
    session.info["kill"] = bool(request.args.get("kill"))
    session.add(Note(title=request.args["title"]))
    if request.args.get("rollback"):
        session.flush()
        session.rollback()
    else:
        session.commit()
    return "ok"


@event.listens_for(Session, "after_commit")
def _kill_if_asked(session: Session) -> None:
    # After COMMIT returned, before the session's other hooks (the relay's wake-up) run.
    if session.info.pop("kill", False):
        os.kill(os.getpid(), signal.SIGKILL)


def serve(app: Flask, port: int) -> None:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    with make_server("127.0.0.1", port, app, handler_class=Quiet) as server:
        print(f"serving on {port}", flush=True)
        server.serve_forever()


def main(args: list[str]) -> None:
    app = make_app()
    if args[0] == "serve":
        serve(app, int(args[1]))
    elif args[0] == "migrate":
        with app.app_context():
            db.create_all()
            outbox_metadata.create_all(db.engine)
    elif args[0] == "create":
        with app.app_context():
            db.session.add_all([Note(title=f"t{n}") for n in range(int(args[1]))])
            db.session.commit()
    else:
        FlaskGroup(create_app=lambda: app).main(args, prog_name="flask")


if __name__ == "__main__":
    main(sys.argv[1:])
