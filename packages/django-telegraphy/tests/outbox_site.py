"""A small Django site with the outbox on, run as its own process by the outbox tests.

    python outbox_site.py serve PORT          a web process (wsgiref) with the relay inside
    python outbox_site.py create N            commit N rows t0..tN-1 in one transaction
    python outbox_site.py <command> [args]    manage.py: migrate, telegraphy_relay, ...

The environment says where things are: OUTBOX_DB (a SQLite path or a postgresql:// URL),
OUTBOX_GATEWAY_PORT, OUTBOX_SECRET, and optionally OUTBOX_POLL_INTERVAL and OUTBOX_BATCH_SIZE.
GET /write?title=T creates a MyModel in a transaction (&rollback=1 rolls it back; &kill=1 makes
the process kill itself with SIGKILL right after COMMIT, before anything else runs).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[2] / "examples" / "django_demo"


def database() -> dict[str, object]:
    where = os.environ["OUTBOX_DB"]
    if not where.startswith("postgresql://"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": where}
    url = urlsplit(where)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": url.path.lstrip("/"),
        "USER": url.username,
        "HOST": url.hostname,
        "PORT": url.port,
    }


def configure() -> None:
    import django
    from django.conf import settings

    sys.path.append(str(DEMO))
    settings.configure(
        SECRET_KEY="outbox-site-key",
        DEBUG=False,
        ALLOWED_HOSTS=["127.0.0.1"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "telegraphy.contrib.django_telegraphy",
            "telegraphy_demo",
        ],
        ROOT_URLCONF=__name__,
        DATABASES={"default": database()},
        # The demo's MyModel events render a table row (docs/fragments.rst) from its app.
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
            }
        ],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        TELEGRAPHY={
            "SECRET": os.environ["OUTBOX_SECRET"],
            "GATEWAY_URL": f"http://127.0.0.1:{os.environ['OUTBOX_GATEWAY_PORT']}",
            "RETRY_MAX_DELAY": 0.5,
            "BATCH_SIZE": int(os.environ.get("OUTBOX_BATCH_SIZE", "100")),
            "OUTBOX": True,
            "OUTBOX_POLL_INTERVAL": float(os.environ.get("OUTBOX_POLL_INTERVAL", "0.2")),
        },
    )
    django.setup()


def write(request: object) -> object:
    from django.db import transaction
    from django.http import HttpResponse
    from telegraphy_demo.models import MyModel

    query = request.GET  # type: ignore[attr-defined]
    with transaction.atomic():
        if query.get("kill"):
            # Registered first, so it runs first once COMMIT returns: before the relay is woken.
            transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
        MyModel.objects.create(title=query["title"])
        if query.get("rollback"):
            transaction.set_rollback(True)
    return HttpResponse("ok")


def ping(request: object) -> object:
    from django.http import HttpResponse

    return HttpResponse("pong")


def create(count: int) -> None:
    """Commit `count` rows titled t0..t<count-1> in one transaction."""
    from django.db import transaction
    from telegraphy_demo.models import MyModel

    with transaction.atomic():
        for n in range(count):
            MyModel.objects.create(title=f"t{n}")


def serve(port: int) -> None:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    with make_server("127.0.0.1", port, get_wsgi_application(), handler_class=Quiet) as server:
        print(f"serving on {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    configure()
    from django.urls import path

    urlpatterns = [path("write", write), path("ping", ping)]
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif sys.argv[1] == "create":
        create(int(sys.argv[2]))
    else:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
