"""`flask telegraphy relay`: deliver the outbox outside the web processes (for deployments that
set TELEGRAPHY_OUTBOX_RELAY to False, or to drain a backlog); `flask telegraphy
create-outbox`: create the outbox table."""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from telegraphy.core import ConfigurationError

from . import _outbox
from ._state import get_state


@click.command("relay")
@with_appcontext
@click.option("--until-empty", is_flag=True, help="Exit once nothing is left to deliver.")
@click.option("--status", is_flag=True, help="Print the backlog and its age, then exit.")
@click.option(
    "--prune", is_flag=True, help="Delete rows delivered over TELEGRAPHY_OUTBOX_KEEP s ago."
)
def relay_command(until_empty: bool, status: bool, prune: bool) -> None:
    """Deliver the events waiting in the outbox to the gateway, in order, until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = get_state()
    try:
        relay = _outbox.relay_for(app, state)
    except ConfigurationError as e:
        raise click.ClickException(str(e)) from None
    store = relay.store
    assert isinstance(store, _outbox.SQLAlchemyOutboxStore)
    if status:
        lag = store.lag()
        age = "none waits" if lag is None else f"the oldest has waited {lag:.1f}s"
        click.echo(f"outbox: {store.waiting()} event(s) waiting, {age}")
        return
    if prune:
        keep = state.settings.outbox.keep
        if keep is None:
            raise click.ClickException(
                "TELEGRAPHY_OUTBOX_KEEP is None: delivered rows are kept, nothing to prune"
            )
        click.echo(f"outbox: {store.prune(keep)} delivered row(s) deleted")
        return
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: relay.interrupt())
    click.echo(f"telegraphy relay: delivering the outbox to {state.settings.core.gateway_url}")
    try:
        relay.run(until_empty=until_empty)
    finally:
        relay.stop()
    stats = relay.stats
    click.echo(f"telegraphy relay: {stats.delivered} event(s) delivered, {stats.rejected} refused")


@click.command("create-outbox")
@with_appcontext
def create_outbox_command() -> None:
    """Create the outbox table (telegraphy_outbox) if it does not exist."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        engine = _outbox.engine_for(app)
    except ConfigurationError as e:
        raise click.ClickException(str(e)) from None
    _outbox.outbox_metadata.create_all(engine)
    click.echo(f"outbox table ready in {engine.url.render_as_string(hide_password=True)}")
