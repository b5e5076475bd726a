from __future__ import annotations

from django.contrib import admin

from .models import MyModel


@admin.register(MyModel)
class MyModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "description", "count")
