"""The page's part: a token minted at render time and the client configuration it carries.

Django's template tag and Flask's Jinja helper both render `scripts_html`, so that the
browser client finds the same `<script id="telegraphy-config">` element on either.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Mapping
from typing import Any

from ._app_settings import AppSettings
from ._settings import Settings
from ._tokens import Grants, mint_token

CONFIG_ID = "telegraphy-config"
# Inside <script> the HTML parser ends the element at "</script"; escaped, no value can.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def page_token(
    settings: Settings, user: str | None, grants: Grants, info: Any = None
) -> tuple[str, int]:
    """A fresh token for `user` (with presence `info`) and when it expires (unix seconds).
    No network involved."""
    now = time.time()
    token = mint_token(settings.secret, user, grants, settings.token_ttl, now, info)
    return token, int(now) + max(1, int(settings.token_ttl))


def page_config(
    app: AppSettings,
    user: str | None,
    grants: Grants,
    token_url: str | None,
    started: float | None = None,
    info: Any = None,
) -> dict[str, Any]:
    """What the JS client needs: where the gateway is, a token minted now, and `since`.

    `since` is when the request `started` (unix seconds; unknown: now) less the render gap
    margin: the client's first subscriptions recover the events accepted from then on, so
    none committed while the page was rendered is lost. `info` is the token's presence info.
    """
    token, expires = page_token(app.core, user, grants, info)
    start = time.time() if started is None else started
    return {
        "url": app.browser_url,
        "realm": app.core.realm,
        "topicPrefix": app.core.topic_prefix,
        "channelPrefix": app.core.channel_prefix,
        "token": token,
        "tokenExpires": expires,
        "tokenUrl": token_url,
        "user": user,
        "since": start - app.core.render_gap_margin,
    }


def config_html(config: Mapping[str, Any]) -> str:
    """The configuration as a JSON <script> element (id "telegraphy-config"), HTML-safe."""
    data = json.dumps(config).translate(_SCRIPT_ESCAPES)
    return f'<script id="{CONFIG_ID}" type="application/json">{data}</script>'


def scripts_html(bundle_url: str, config: Mapping[str, Any]) -> str:
    """The JS client from `bundle_url`, its configuration, and `Telegraphy.configure(...)`."""
    return (
        f'<script src="{html.escape(bundle_url)}"></script>\n{config_html(config)}\n'
        "<script>Telegraphy.configure(JSON.parse("
        f'document.getElementById("{CONFIG_ID}").textContent));</script>'
    )
