"""Tokens for the browser: who `request.user` is and what the registered definitions grant."""

from __future__ import annotations

import time
from typing import Any

from telegraphy.core import Grants, grants_for, mint_token, user_channel

from .conf import get_settings
from .events import registered_channels, registered_events


def user_id(user: Any) -> str | None:
    """The token's subject: the user's primary key as text; None for an anonymous visitor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


def grants(user: Any) -> Grants:
    """Registered events and channels `user` is authorized for, plus their own channel."""
    channels = [c for c in registered_channels() if c.is_authorized_user(user)]
    subscribe = [c.name for c in channels]
    subject = user_id(user)
    if subject is not None:
        subscribe.append(user_channel(subject))
    publish = [c.name for c in channels if getattr(c, "publish", False)]
    return grants_for(user, registered_events(), subscribe, publish)


def token_for(user: Any) -> tuple[str, int]:
    """A fresh token for `user` and when it expires (unix seconds). No network involved."""
    settings = get_settings().core
    now = time.time()
    token = mint_token(settings.secret, user_id(user), grants(user), settings.token_ttl, now)
    return token, int(now) + max(1, int(settings.token_ttl))
