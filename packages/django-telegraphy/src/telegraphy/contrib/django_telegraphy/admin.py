"""The outbox in Django's admin: what waits, what went, what the gateway refused and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from .models import OutboxEvent

# Generic for the type checker only: Django's own class is not subscriptable at run time.
if TYPE_CHECKING:
    OutboxAdminBase = admin.ModelAdmin[OutboxEvent]
else:
    OutboxAdminBase = admin.ModelAdmin


@admin.register(OutboxEvent)
class OutboxEventAdmin(OutboxAdminBase):
    list_display = ("id", "name", "event_id", "created", "state", "done", "error")
    list_filter = (("done", admin.EmptyFieldListFilter), "name")
    search_fields = ("name", "event_id")
    readonly_fields = tuple(f.name for f in OutboxEvent._meta.fields)
    date_hierarchy = "created"

    @admin.display(description="state")
    def state(self, event: OutboxEvent) -> str:
        return event.state

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are written by transactions, never by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
