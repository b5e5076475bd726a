from __future__ import annotations

from django.apps import AppConfig


class TelegraphyDemoConfig(AppConfig):
    name = "telegraphy_demo"
    verbose_name = "Telegraphy demo"
