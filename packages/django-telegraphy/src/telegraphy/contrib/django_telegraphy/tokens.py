"""Tokens for the browser: who `request.user` is and what the registered definitions grant."""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

from telegraphy.core import Grants, page_token

from .conf import get_settings, raw_settings
from .events import registry


def user_id(user: Any) -> str | None:
    """The token's subject: the user's primary key as text; None for an anonymous visitor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


def grants(user: Any) -> Grants:
    """Registered events and channels `user` is authorized for, plus their own channel."""
    return registry.grants(user, user_id(user))


def presence_info(user: Any) -> Any:
    """What the members of the channels `user` is present in see of them: what the function
    `TELEGRAPHY["PRESENCE_INFO"]` names (a dotted path) returns for `user`; else nothing."""
    path = raw_settings().get("PRESENCE_INFO")
    return None if path is None else import_string(path)(user)


def token_for(user: Any) -> tuple[str, int]:
    """A fresh token for `user` and when it expires (unix seconds). No network involved."""
    return page_token(get_settings().core, user_id(user), grants(user), presence_info(user))
