"""`python manage.py run_telegraph`: the gateway, embedded, configured from Django settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import autoreload

from ...conf import get_settings
from ...gateway import gateway_mapping

LOG_LEVELS = ("debug", "info", "warn", "error", "critical")


class Command(BaseCommand):
    help = "Run the Telegraphy gateway with the realm, secret and address of settings.TELEGRAPHY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", help="interface to listen on (default: GATEWAY_URL's)")
        parser.add_argument("--port", type=int, help="port to listen on (default: GATEWAY_URL's)")
        parser.add_argument("--log-level", choices=LOG_LEVELS, default="info")
        parser.add_argument(
            "--autoreload",
            action="store_true",
            help="restart the gateway when Python code changes (development only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here only: a Django site that runs its gateway elsewhere never loads it.
        from telegraphy.gateway import ConfigError, config_from_mapping

        mapping = gateway_mapping(get_settings(), options["host"], options["port"])
        try:
            config = config_from_mapping({**mapping, "log": {"level": options["log_level"]}})
        except ConfigError as e:
            raise CommandError(f"gateway configuration: {e}") from None
        if options["autoreload"]:
            autoreload.run_with_reloader(self.serve, config)
        else:
            self.serve(config)

    def serve(self, config: Any) -> None:
        from telegraphy.gateway import CannotListen, serve

        try:
            serve(config)
        except CannotListen as e:
            raise CommandError(f"the gateway cannot listen: {e}") from None
