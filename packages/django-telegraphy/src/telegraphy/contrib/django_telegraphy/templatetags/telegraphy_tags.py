"""`{% load telegraphy_tags %}`: `{% telegraphy_scripts %}` and `{% telegraphy_config %}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

from ..conf import get_settings
from ..tokens import token_for, user_id

register = template.Library()

BUNDLE = "telegraphy/telegraphy.min.js"
CONFIG_ID = "telegraphy-config"


def client_config(user: Any) -> dict[str, Any]:
    """What the JS client needs: where the gateway is, and a token minted now (no network)."""
    app = get_settings()
    token, expires = token_for(user)
    return {
        "url": app.browser_url,
        "realm": app.core.realm,
        "topicPrefix": app.core.topic_prefix,
        "channelPrefix": app.core.channel_prefix,
        "token": token,
        "tokenExpires": expires,
        "tokenUrl": _token_url(),
        "user": user_id(user),
    }


@register.simple_tag(takes_context=True)
def telegraphy_config(context: template.Context) -> SafeString:
    """The client configuration as a JSON <script> element (id "telegraphy-config")."""
    request = context.get("request")
    return json_script(client_config(getattr(request, "user", None)), CONFIG_ID)


@register.simple_tag(takes_context=True)
def telegraphy_scripts(context: template.Context) -> SafeString:
    """The JS client from static files, its configuration, and `Telegraphy.configure(...)`."""
    return format_html(
        '<script src="{}"></script>\n{}\n<script>Telegraphy.configure(JSON.parse('
        'document.getElementById("{}").textContent));</script>',
        static(BUNDLE),
        telegraphy_config(context),
        CONFIG_ID,
    )


def _token_url() -> str | None:
    try:
        return reverse("telegraphy:token")
    except NoReverseMatch:  # the app's urls are not included: tokens come with pages only
        return None
