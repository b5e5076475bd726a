"""The Flask extension: `Telegraphy(app)` or `Telegraphy()` + `init_app(app)`.

init_app validates the `TELEGRAPHY_*` configuration, keeps the app's state in
`app.extensions["telegraphy"]`, registers a blueprint (the JS client and the token view), the
Jinja globals `telegraphy_scripts()`, `telegraphy_fragments()`, `telegraphy_object()` and the
`flask telegraphy` commands.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request_started, url_for
from markupsafe import Markup
from sqlalchemy.orm import Session, scoped_session

from telegraphy.core import (
    Event,
    Sender,
    config_html,
    fragment_attributes,
    object_attribute,
    page_config,
    scripts_html,
    to_channel,
    user_channel,
)

from . import _config, _outbox, presence
from ._session import defer
from ._state import EXTENSION, TelegraphyState, get_state
from ._tokens import flask_login_user, grants, presence_info, token_for, user_id
from .cli import telegraphy_cli
from .events import object_id, registry

BUNDLE = "telegraphy.min.js"
STARTED = "_telegraphy_started"  # the request's start time, in `g`
AnySession = Session | scoped_session[Any]


class Telegraphy:
    """The extension. `sender` replaces the publisher (tests); `get_user` returns the current
    user when the app does not use Flask-Login."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        sender: Sender | None = None,
        get_user: Callable[[], Any] | None = None,
    ) -> None:
        self.sender = sender
        self.get_user = get_user
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Validate the app's configuration and set the extension up on it."""
        _config.seed(app.config)
        settings = _config.build(app.config)
        get_user = self.get_user or (lambda: flask_login_user(current_app))
        app.extensions[EXTENSION] = TelegraphyState(settings, get_user, self.sender)
        app.register_blueprint(_blueprint(settings.url_prefix))
        # Sent before any before_request function, which may already read the page's data.
        request_started.connect(_record_start, app)
        request_started.connect(_start_relay, app)
        app.jinja_env.globals["telegraphy_scripts"] = telegraphy_scripts
        app.jinja_env.globals["telegraphy_config"] = telegraphy_config
        app.jinja_env.globals["telegraphy_fragments"] = telegraphy_fragments
        app.jinja_env.globals["telegraphy_object"] = telegraphy_object
        app.cli.add_command(telegraphy_cli)

    @staticmethod
    def state(app: Flask | None = None) -> TelegraphyState:
        """The app's state (default: the current app's)."""
        return get_state(app)


def _blueprint(url_prefix: str) -> Blueprint:
    blueprint = Blueprint(
        EXTENSION,
        __name__,
        static_folder="static",
        static_url_path="/static",
        url_prefix=url_prefix,
    )
    blueprint.add_url_rule("/token", "token", token_view, methods=["GET"])
    blueprint.add_url_rule("/presence", "presence", presence.webhook_view, methods=["POST"])
    return blueprint


def token_view() -> Response:
    """GET -> {"token": "...", "expires": <unix seconds>} for the current user.

    A safe method that changes nothing, so no CSRF token is needed; other sites cannot read
    the answer (same-origin policy, no CORS headers), and it is never cached.
    """
    state = get_state()
    token, expires = token_for(state, state.get_user())
    response = jsonify(token=token, expires=expires)
    response.headers["Cache-Control"] = "no-store"
    return response


def _record_start(sender: Flask, **_: Any) -> None:
    setattr(g, STARTED, time.time())


def _start_relay(sender: Flask, **_: Any) -> None:
    """The web process's outbox relay starts with its first request (not at init_app: a
    `flask db upgrade` must not start threads), and delivers what a previous one left."""
    _outbox.start_relay(sender, get_state(sender))


def client_config() -> dict[str, Any]:
    """What the JS client needs: where the gateway is, a token minted now (no network), and
    `since`, from when the request started (outside a request: now). With `app.debug`, also
    `debug` and the defined event names, for the client's console warnings."""
    state = get_state()
    user = state.get_user()
    token_url = url_for(f"{EXTENSION}.token")
    info = presence_info(user)
    config = page_config(
        state.settings, user_id(user), grants(user), token_url, g.get(STARTED), info
    )
    if current_app.debug:
        config.update(debug=True, events=sorted(registry.events))
    return config


def telegraphy_config() -> Markup:
    """The client configuration as a JSON <script> element (id "telegraphy-config")."""
    return Markup(config_html(client_config()))


def telegraphy_scripts() -> Markup:
    """The JS client, its configuration, and `Telegraphy.configure(...)`."""
    bundle_url = url_for(f"{EXTENSION}.static", filename=BUNDLE)
    return Markup(scripts_html(bundle_url, client_config()))


def telegraphy_fragments(name: str, action: str = "append") -> Markup:
    """Marks an element for the fragments of event `name` (docs/fragments.rst)."""
    return Markup(fragment_attributes(name, action))  # fragment_attributes escapes


def telegraphy_object(instance: Any) -> Markup:
    """Names the object an element shows: its primary key."""
    return Markup(object_attribute(object_id(instance)))  # object_attribute escapes


def send_event(event: Event, session: AnySession | None = None) -> None:
    """Send a custom event to everyone allowed to see its name.

    With `session`, once that session's transaction commits (never if it rolls back).
    """
    _send(event.envelope(), session)


def send_to_channel(channel: str, event: Event, session: AnySession | None = None) -> None:
    """Send `event` to the subscribers of `channel` only (`chat.room-1`, `user.42`)."""
    _send(to_channel(event.envelope(), channel), session)


def send_to_user(user: Any, event: Event, session: AnySession | None = None) -> None:
    """Send `event` to one user's browsers only: their channel `user.<id>`."""
    subject = user_id(user) if hasattr(user, "is_authenticated") else str(user)
    if subject is None:
        raise ValueError("send_to_user needs a signed-in user (or a user id), not an anonymous one")
    send_to_channel(user_channel(subject), event, session)


def _send(envelope: Any, session: AnySession | None) -> None:
    state = get_state()
    if not state.settings.enabled:
        return
    if session is not None:
        defer(session, state, envelope)
    elif _outbox.uses_outbox(state):
        _outbox.send_now(current_app._get_current_object(), state, envelope)  # type: ignore[attr-defined]
    else:
        state.send(envelope)
