"""`python manage.py telegraphy_check`: is Telegraphy set up? Exit status 1 when it is not."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telegraphy.core import ConfigurationError, SetupFinding, check_secret, check_setup

from ...conf import SETTING, build, raw_settings
from ...gateway import gateway_mapping

WHERE = f"settings.{SETTING}['{{}}']"


class Command(BaseCommand):
    help = (
        "Check settings.TELEGRAPHY against the running gateway: the secret, GATEWAY_URL "
        "(/health), a signed request to the ingress, and the public patterns."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = raw_settings()
        except ImproperlyConfigured as e:
            raise CommandError(str(e)) from None
        try:
            app = build(data)
        except ConfigurationError as e:
            findings = [check_secret(data.get("SECRET"), WHERE)]
            if findings[0].problem is None:
                findings.append(SetupFinding("settings", str(e), f"fix settings.{SETTING}"))
        else:
            public = gateway_mapping(app).get("public", [])
            findings = check_setup(app, public, WHERE, options["timeout"])
        for finding in findings:
            self.report(finding)
        failed = [f.check for f in findings if f.problem]
        if failed:
            raise CommandError(f"Telegraphy is not set up: {', '.join(failed)} (see above)")
        self.stdout.write(self.style.SUCCESS("Telegraphy is set up."))

    def report(self, finding: SetupFinding) -> None:
        if finding.problem is None:
            self.stdout.write(f"ok    {finding.check}: {finding.detail}")
        else:
            self.stdout.write(self.style.ERROR(f"FAIL  {finding.check}: {finding.detail}"))
            self.stdout.write(f"      fix: {finding.problem}")
