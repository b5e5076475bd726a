"""`{% load telegraphy_tags %}`: `{% telegraphy_scripts %}`, `{% telegraphy_config %}`, and the
fragment markup: `{% telegraphy_fragments %}`, `{% telegraphy_object %}` (docs/fragments.rst)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from telegraphy.core import (
    config_html,
    fragment_attributes,
    object_attribute,
    page_config,
    scripts_html,
)

from ..conf import get_settings
from ..events import registry
from ..render_gap import started_at
from ..tokens import grants, presence_info, user_id

register = template.Library()

BUNDLE = "telegraphy/telegraphy.min.js"


def client_config(user: Any, started: float | None = None) -> dict[str, Any]:
    """What the JS client needs: where the gateway is, a token minted now (no network), and
    `since`, from when the request `started` (None: now). With `settings.DEBUG`, also `debug`
    and the defined event names, for the client's console warnings."""
    info = presence_info(user)
    config = page_config(get_settings(), user_id(user), grants(user), _token_url(), started, info)
    if settings.DEBUG:
        config.update(debug=True, events=sorted(registry.events))
    return config


@register.simple_tag(takes_context=True)
def telegraphy_config(context: template.Context) -> SafeString:
    """The client configuration as a JSON <script> element (id "telegraphy-config")."""
    return mark_safe(config_html(_config(context)))  # config_html escapes the JSON


@register.simple_tag(takes_context=True)
def telegraphy_scripts(context: template.Context) -> SafeString:
    """The JS client from static files, its configuration, and `Telegraphy.configure(...)`."""
    return mark_safe(scripts_html(static(BUNDLE), _config(context)))  # scripts_html escapes


@register.simple_tag
def telegraphy_fragments(name: str, action: str = "append") -> SafeString:
    """Marks an element for the fragments of event `name`: `<tbody {% telegraphy_fragments
    "shop.Order" "prepend" %}>`."""
    return mark_safe(fragment_attributes(name, action))  # fragment_attributes escapes


@register.simple_tag
def telegraphy_object(instance: Any) -> SafeString:
    """Names the object an element shows: `<tr {% telegraphy_object order %}>`."""
    return mark_safe(object_attribute(getattr(instance, "pk", instance)))  # escaped


def _config(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    return client_config(getattr(request, "user", None), started_at(request))


def _token_url() -> str | None:
    try:
        return reverse("telegraphy:token")
    except NoReverseMatch:  # the app's urls are not included: tokens come with pages only
        return None
