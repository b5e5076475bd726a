"""`flask telegraphy run`: the gateway, embedded, configured from the app's TELEGRAPHY_* keys;
`flask telegraphy check`: whether the app and its gateway work together.

The gateway package is imported only when the command runs: an app whose gateway runs
elsewhere never loads it.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup

from telegraphy.core import SetupFinding, check_setup
from telegraphy.core import gateway_mapping as core_gateway_mapping

from ._config import FlaskSettings
from ._outbox_cli import create_outbox_command, relay_command
from ._state import get_state
from .events import registry

LOG_LEVELS = ("debug", "info", "warn", "error", "critical")

telegraphy_cli = AppGroup("telegraphy", help="Telegraphy's gateway, configured from this app.")
telegraphy_cli.add_command(relay_command)
telegraphy_cli.add_command(create_outbox_command)


def public_patterns(settings: FlaskSettings) -> list[dict[str, str]]:
    """Topics anonymous sessions may subscribe to: the events and channels marked public."""
    return registry.public_patterns(settings.core)


def gateway_mapping(
    settings: FlaskSettings, host: str | None = None, port: int | None = None
) -> dict[str, Any]:
    """The gateway's configuration (its TOML keys) for these settings.

    Host and port come from TELEGRAPHY_GATEWAY_URL unless given; TELEGRAPHY_GATEWAY adds any
    other gateway key (its `public` list is added to the computed one).
    """
    return core_gateway_mapping(settings, public_patterns(settings), host, port)


@telegraphy_cli.command("run")
@click.option("--host", help="Interface to listen on (default: TELEGRAPHY_GATEWAY_URL's).")
@click.option("--port", type=int, help="Port to listen on (default: TELEGRAPHY_GATEWAY_URL's).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info", show_default=True)
def run_command(host: str | None, port: int | None, log_level: str) -> None:
    """Run the gateway with this app's realm, secret, address and public events."""
    from telegraphy.gateway import ConfigError, config_from_mapping

    mapping = gateway_mapping(get_state().settings, host, port)
    try:
        config = config_from_mapping({**mapping, "log": {"level": log_level}})
    except ConfigError as e:
        raise click.ClickException(f"gateway configuration: {e}") from None
    serve(config)


@telegraphy_cli.command("public")
def public_command() -> None:
    """Print the public topics as JSON: the `public` list of a separate gateway's config."""
    click.echo(json.dumps(public_patterns(get_state().settings), indent=2))


@telegraphy_cli.command("check")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds per request.")
def check_command(timeout: float) -> None:
    """Check the secret, TELEGRAPHY_GATEWAY_URL (/health), a signed request to the gateway's
    ingress, and the public patterns; exit status 1 when one fails."""
    settings = get_state().settings
    public = gateway_mapping(settings).get("public", [])
    findings = check_setup(settings, public, "TELEGRAPHY_{}", timeout)
    for finding in findings:
        report(finding)
    failed = [f.check for f in findings if f.problem]
    if failed:
        raise click.ClickException(f"Telegraphy is not set up: {', '.join(failed)} (see above)")
    click.secho("Telegraphy is set up.", fg="green")


def report(finding: SetupFinding) -> None:
    if finding.problem is None:
        click.echo(f"ok    {finding.check}: {finding.detail}")
    else:
        click.secho(f"FAIL  {finding.check}: {finding.detail}", fg="red")
        click.echo(f"      fix: {finding.problem}")


def serve(config: Any) -> None:
    """Run the gateway until Ctrl-C or SIGTERM."""
    from telegraphy.gateway import CannotListen, serve

    try:
        serve(config)
    except CannotListen as e:
        raise click.ClickException(f"the gateway cannot listen: {e}") from None
