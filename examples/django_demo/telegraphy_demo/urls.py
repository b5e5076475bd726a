from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("demo/editor/", views.page("editor"), name="editor"),
    path("demo/models/", views.models, name="models"),
    path("demo/models/<int:pk>/", views.model, name="model"),
    path("demo/simple/", views.page("simple"), name="simple"),
    path("demo/change_tracker/", views.page("change_tracker"), name="change_tracker"),
    path("demo/live_rows/", views.page("live_rows"), name="live_rows"),
    path("demo/notifications/", views.notifications, name="notifications"),
    path("demo/chat/", views.chat, name="chat"),
]
