"""The Flask shop (flask_shop.py) with the outbox on, run as its own process by the bulk
operations' process tests (tests/test_bulk_processes.py).

    python flask_bulk_site.py migrate           create the tables (the outbox's included)
    python flask_bulk_site.py bulk              the statements of bulk_scenario(), committed
    python flask_bulk_site.py <flask command>   e.g. telegraphy relay --until-empty

The environment says where things are, as for flask_outbox_site.py: OUTBOX_DB (a SQLite path or
a postgresql:// URL), OUTBOX_GATEWAY_PORT, OUTBOX_SECRET.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal

from flask import Flask
from flask.cli import FlaskGroup
from flask_outbox_site import database_url
from flask_shop import Base, Line, LineEvents, Order, OrderEvents
from sqlalchemy import create_engine, delete, insert, update
from sqlalchemy.orm import Session

from telegraphy.contrib.flask_telegraphy import Telegraphy, outbox_metadata


def make_app() -> Flask:
    app = Flask("flask_bulk_site")
    app.config.update(
        TELEGRAPHY_SECRET=os.environ["OUTBOX_SECRET"],
        TELEGRAPHY_GATEWAY_URL=f"http://127.0.0.1:{os.environ['OUTBOX_GATEWAY_PORT']}",
        TELEGRAPHY_OUTBOX=True,
        TELEGRAPHY_OUTBOX_RELAY=False,  # the test runs `telegraphy relay --until-empty`
        TELEGRAPHY_OUTBOX_DATABASE=database_url(),
    )
    Telegraphy(app)
    OrderEvents().register()
    LineEvents().register()
    return app


def bulk_scenario(session: Session) -> None:
    """Each kind of statement, each in its transaction; one transaction rolls back."""
    made = session.execute(
        insert(Order).returning(Order.id), [{"customer": c} for c in ("ann", "bob", "cy")]
    )
    ann, bob, cy = (row.id for row in made)
    session.commit()
    session.execute(update(Order).where(Order.customer.in_(["ann", "bob"])).values(status="paid"))
    session.commit()
    totals = [{"id": key, "total": Decimal("3.00")} for key in (ann, bob, cy)]
    session.execute(update(Order), totals)
    session.commit()
    session.execute(insert(Line), [{"order_id": ann, "product": f"p{n}"} for n in range(5)])
    session.commit()
    session.execute(update(Order).values(status="gone"))
    session.rollback()
    session.execute(delete(Order).where(Order.id == cy))
    session.commit()
    session.execute(delete(Line).where(Line.order_id == ann))  # no ON DELETE CASCADE: first
    session.execute(delete(Order).where(Order.id == ann))
    session.commit()


def main(args: list[str]) -> None:
    app = make_app()
    engine = create_engine(database_url())
    if args[0] == "migrate":
        Base.metadata.create_all(engine)
        outbox_metadata.create_all(engine)
    elif args[0] == "bulk":
        with app.app_context(), Session(engine) as session:
            bulk_scenario(session)
    else:
        FlaskGroup(create_app=lambda: app).main(args, prog_name="flask")


if __name__ == "__main__":
    main(sys.argv[1:])
