"""`path("telegraphy/", include("telegraphy.contrib.django_telegraphy.urls"))`."""

from __future__ import annotations

from django.urls import path

from . import presence, views

app_name = "telegraphy"
urlpatterns = [
    path("token/", views.token, name="token"),
    path("presence/", presence.webhook, name="presence"),
]
