"""Tokens for the browser: who `request.user` is and what the registered definitions grant."""

from __future__ import annotations

from typing import Any

from telegraphy.core import Grants, page_token

from .conf import get_settings
from .events import registry


def user_id(user: Any) -> str | None:
    """The token's subject: the user's primary key as text; None for an anonymous visitor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


def grants(user: Any) -> Grants:
    """Registered events and channels `user` is authorized for, plus their own channel."""
    return registry.grants(user, user_id(user))


def token_for(user: Any) -> tuple[str, int]:
    """A fresh token for `user` and when it expires (unix seconds). No network involved."""
    return page_token(get_settings().core, user_id(user), grants(user))
