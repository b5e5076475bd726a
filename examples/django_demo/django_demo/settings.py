"""Settings of the Django demo: SQLite, the admin, and Telegraphy with a local gateway.

Not for production: the secret keys below are public. Environment variables override them.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-demo-insecure-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "telegraphy.contrib.django_telegraphy",
    "telegraphy_demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "django_demo.urls"
WSGI_APPLICATION = "django_demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DEMO_DB", str(BASE_DIR / "db.sqlite3")),
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# The stylesheet both demos share.
STATICFILES_DIRS = [BASE_DIR.parent / "shared"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"

GATEWAY_PORT = int(os.environ.get("TELEGRAPHY_DEMO_GATEWAY_PORT", "9000"))
TELEGRAPHY = {
    # Shared with the gateway (run_telegraph reads it from here too).
    "SECRET": os.environ.get("TELEGRAPHY_SECRET", "demo-shared-secret-change-me-0123456789"),
    "GATEWAY_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
    "RETRY_MAX_DELAY": 2.0,
    # What the other members of a chat room see of a user (docs/presence.rst).
    "PRESENCE_INFO": "telegraphy_demo.presence.info",
    # run_telegraph keeps the gateway's history and client records beside the demo's database.
    "GATEWAY": {
        "engine": {
            "path": os.environ.get(
                "TELEGRAPHY_DEMO_ENGINE", str(BASE_DIR / "telegraphy-gateway.sqlite3")
            )
        }
    },
}
