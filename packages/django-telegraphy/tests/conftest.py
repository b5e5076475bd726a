"""Django for these tests: the demo project's apps (examples/django_demo) on SQLite.

Settings are configured when this file is imported, before any test runs: pytest-django then
sets up the test databases. The demo's `telegraphy_demo` app is the app under test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "examples" / "django_demo"
SECRET = "django-tests-secret-0123456789"

# The demo project, and this directory (for gateway_process.py), are imported by the tests.
# Appended, not prepended: the gateway's tests import their own `conftest` module by name.
for path in (DEMO, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.append(str(path))

if not settings.configured:
    from django_demo import settings as demo

    settings.configure(
        SECRET_KEY="django-tests-key",
        DEBUG=False,
        ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
        INSTALLED_APPS=[*demo.INSTALLED_APPS, "shop"],  # shop: tests/shop, no migrations
        MIDDLEWARE=demo.MIDDLEWARE,
        ROOT_URLCONF=demo.ROOT_URLCONF,
        TEMPLATES=demo.TEMPLATES,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
        STATIC_URL="static/",
        STATICFILES_DIRS=demo.STATICFILES_DIRS,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGIN_URL="login",
        LOGIN_REDIRECT_URL="index",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        TELEGRAPHY={"SECRET": SECRET, "GATEWAY_URL": "http://127.0.0.1:9"},
    )
    django.setup()
