"""Tokens for the browser: who the current user is and what the registered definitions grant."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from telegraphy.core import Grants, page_token

from ._state import TelegraphyState
from .events import registry


def flask_login_user(app: Flask) -> Any:
    """Flask-Login's `current_user` when the app uses Flask-Login, else None (anonymous)."""
    if getattr(app, "login_manager", None) is None:
        return None
    # Only apps that set up Flask-Login have it (it ships no type information).
    from flask_login import current_user  # type: ignore[import-untyped]

    return current_user._get_current_object()


def user_id(user: Any) -> str | None:
    """The token's subject: the user's id as text; None for an anonymous visitor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    get_id = getattr(user, "get_id", None)
    value = get_id() if callable(get_id) else getattr(user, "id", None)
    return None if value is None else str(value)


def grants(user: Any) -> Grants:
    """Registered events and channels `user` is authorized for, plus their own channel."""
    return registry.grants(user, user_id(user))


def presence_info(user: Any) -> Any:
    """What `TELEGRAPHY_PRESENCE_INFO` (a function of the user) gives for `user`, if set: the
    info the members of channels `user` is present in see (docs/presence.rst)."""
    info = current_app.config.get("TELEGRAPHY_PRESENCE_INFO")
    return None if info is None else info(user)


def token_for(state: TelegraphyState, user: Any) -> tuple[str, int]:
    """A fresh token for `user` and when it expires (unix seconds). No network involved."""
    return page_token(state.settings.core, user_id(user), grants(user), presence_info(user))
