"""The app's configuration: checks, the settings cache, request start times, `events` discovery."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_started, setting_changed


class TelegraphyConfig(AppConfig):
    name = "telegraphy.contrib.django_telegraphy"
    label = "django_telegraphy"
    verbose_name = "Telegraphy"

    def ready(self) -> None:
        from . import checks, conf, events, render_gap

        checks.register()
        setting_changed.connect(_setting_changed, dispatch_uid="telegraphy-settings")
        request_started.connect(render_gap.record_start, dispatch_uid="telegraphy-started")
        request_started.connect(_start_relays, dispatch_uid="telegraphy-outbox-relay")
        events.autodiscover()
        # So that a custom event's plain `.send()` reaches this gateway too. Bad settings are
        # left to the system checks, which say what to fix.
        with suppress(ImproperlyConfigured):
            conf.get_sender()


def _start_relays(**_: Any) -> None:
    """The web process's outbox relay starts with its first request (not at import: a
    `manage.py migrate` must not start threads), and delivers what a previous process left."""
    from .conf import get_settings

    with suppress(ImproperlyConfigured):
        if get_settings().outbox.enabled:
            from . import metrics, outbox

            outbox.start_relays()
            metrics.register()


def _setting_changed(setting: str, **_: Any) -> None:
    from .conf import SETTING, clear

    if setting == SETTING:
        clear()
