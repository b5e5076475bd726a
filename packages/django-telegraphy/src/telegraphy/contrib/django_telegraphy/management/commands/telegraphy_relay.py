"""`python manage.py telegraphy_relay`: deliver the outbox to the gateway, outside the web
processes (for deployments that set OUTBOX_RELAY to False, or to drain a backlog)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from ... import outbox
from ...conf import get_settings


class Command(BaseCommand):
    help = (
        "Deliver the events waiting in the Telegraphy outbox to the gateway, in order, until "
        "stopped (Ctrl-C or SIGTERM); --status shows the backlog, --prune deletes old rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the outbox's database")
        parser.add_argument(
            "--until-empty", action="store_true", help="exit once nothing is left to deliver"
        )
        parser.add_argument(
            "--status", action="store_true", help="print the backlog and its age, then exit"
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="delete the rows delivered more than OUTBOX_KEEP seconds ago, then exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        using: str = options["database"]
        if options["status"]:
            self._status(using)
        elif options["prune"]:
            self._prune(using)
        else:
            self._relay(using, options["until_empty"])

    def _status(self, using: str) -> None:
        store = outbox.DjangoOutboxStore(using)
        lag = store.lag()
        age = "none waits" if lag is None else f"the oldest has waited {lag:.1f}s"
        self.stdout.write(f"outbox of {using!r}: {store.waiting()} event(s) waiting, {age}")

    def _prune(self, using: str) -> None:
        keep = get_settings().outbox.keep
        if keep is None:
            raise CommandError("OUTBOX_KEEP is None: delivered rows are kept, nothing to prune")
        deleted = outbox.DjangoOutboxStore(using).prune(keep)
        self.stdout.write(f"outbox of {using!r}: {deleted} delivered row(s) deleted")

    def _relay(self, using: str, until_empty: bool) -> None:
        relay = outbox.relay_for(using)
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: relay.interrupt())
        url = get_settings().core.gateway_url
        self.stdout.write(f"telegraphy relay: delivering the outbox of {using!r} to {url}")
        self.stdout.flush()
        try:
            relay.run(until_empty=until_empty)
        finally:
            relay.stop()
        stats = relay.stats
        self.stdout.write(
            f"telegraphy relay: {stats.delivered} event(s) delivered, {stats.rejected} refused"
        )
