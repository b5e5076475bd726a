"""The demo's URLs: the demo pages, the admin, sign-in, and Telegraphy's token view."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from telegraphy.contrib.django_telegraphy import events

# The original Telegraphy API called it here; the app already discovered every events.py,
# so this adds nothing.
events.autodiscover()

urlpatterns = [
    path("", include("telegraphy_demo.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("telegraphy/", include("telegraphy.contrib.django_telegraphy.urls")),
]
