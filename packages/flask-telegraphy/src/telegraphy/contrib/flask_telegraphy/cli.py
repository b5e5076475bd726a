"""`flask telegraphy run`: the gateway, embedded, configured from the app's TELEGRAPHY_* keys.

The gateway package is imported only when the command runs: an app whose gateway runs
elsewhere never loads it.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import urlsplit

import click
from flask.cli import AppGroup

from telegraphy.core import event_topic, grant_pattern

from ._config import FlaskSettings
from ._state import get_state
from .events import registered_channels, registered_events

LOG_LEVELS = ("debug", "info", "warn", "error", "critical")

telegraphy_cli = AppGroup("telegraphy", help="Telegraphy's gateway, configured from this app.")


def public_patterns(settings: FlaskSettings) -> list[dict[str, str]]:
    """Topics anonymous sessions may subscribe to: the events and channels marked public."""
    patterns = [
        {"uri": event_topic(d.name, settings.core.topic_prefix), "match": "exact"}
        for d in registered_events()
        if d.public
    ]
    for channel in registered_channels():
        if channel.public:
            uri, match = grant_pattern(channel.name, settings.core.channel_prefix)
            patterns.append({"uri": uri, "match": match})
    return patterns


def gateway_mapping(
    settings: FlaskSettings, host: str | None = None, port: int | None = None
) -> dict[str, Any]:
    """The gateway's configuration (its TOML keys) for these settings.

    Host and port come from TELEGRAPHY_GATEWAY_URL unless given; TELEGRAPHY_GATEWAY adds any
    other gateway key (its `public` list is added to the computed one).
    """
    url = urlsplit(settings.core.gateway_url)
    extra = dict(settings.gateway)
    return {
        **extra,
        "realm": settings.core.realm,
        "secret": settings.core.secret,
        "topic_prefix": settings.core.topic_prefix,
        "channel_prefix": settings.core.channel_prefix,
        "host": host or url.hostname,
        "port": port if port is not None else url.port or (443 if url.scheme == "https" else 80),
        "public": public_patterns(settings) + list(extra.get("public", [])),
    }


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


def serve(config: Any) -> None:
    """Run the gateway until Ctrl-C or SIGTERM."""
    from twisted.internet import reactor
    from twisted.logger import (
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        globalLogBeginner,
        textFileLogObserver,
    )

    from telegraphy.gateway import Gateway

    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.levelWithName(config.log_level))
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(textFileLogObserver(sys.stdout), [predicate])],
        redirectStandardIO=False,
    )
    gateway = Gateway(config)
    try:
        gateway.listen()
    except Exception as e:  # CannotListenError and friends: say why and stop
        raise click.ClickException(f"the gateway cannot listen: {e}") from None
    reactor.addSystemEventTrigger("before", "shutdown", gateway.stop)
    reactor.run()
