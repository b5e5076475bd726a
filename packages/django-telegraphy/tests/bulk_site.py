"""The shop (tests/shop) with the outbox on, run as its own process by the bulk operations'
process tests (tests/test_bulk_processes.py).

    python bulk_site.py bulk                  the bulk operations of bulk_scenario(), committed
    python bulk_site.py <command> [args]      manage.py: migrate, telegraphy_relay, ...

The environment says where things are, as for outbox_site.py: OUTBOX_DB (a SQLite path or a
postgresql:// URL), OUTBOX_GATEWAY_PORT, OUTBOX_SECRET.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal

from outbox_site import database


def configure() -> None:
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="bulk-site-key",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "telegraphy.contrib.django_telegraphy",
            "shop",
        ],
        DATABASES={"default": database()},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        TELEGRAPHY={
            "SECRET": os.environ["OUTBOX_SECRET"],
            "GATEWAY_URL": f"http://127.0.0.1:{os.environ['OUTBOX_GATEWAY_PORT']}",
            "OUTBOX": True,
            "OUTBOX_RELAY": False,  # the test runs `telegraphy_relay --until-empty`
        },
    )
    django.setup()
    from shop.definitions import LineEvents, OrderEvents

    OrderEvents().register()
    LineEvents().register()


def bulk_scenario() -> None:
    """Each bulk operation, each in its transaction; one transaction rolls back."""
    from django.db import transaction
    from shop.models import Line, Order

    ann, bob, cy = Order.objects.bulk_create([Order(customer=c) for c in ("ann", "bob", "cy")])
    Order.objects.filter(customer__in=["ann", "bob"]).update(status="paid")
    for order in (ann, bob, cy):
        order.total = Decimal("3.00")
    Order.objects.bulk_update([ann, bob, cy], ["total"])
    Line.objects.bulk_create([Line(order=ann, product=f"p{n}") for n in range(5)])
    try:
        with transaction.atomic():
            Order.objects.update(status="gone")
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    Order.objects.filter(pk=cy.pk).delete()
    Order.objects.filter(pk=ann.pk).delete()  # and its lines, by cascade: one batch


if __name__ == "__main__":
    configure()
    if sys.argv[1] == "bulk":
        bulk_scenario()
    else:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
