"""Live server-rendered fragments: HTML the web app renders once per audience and sends in the
event's `meta.fragment`, for the browser to put in place without page JavaScript
(docs/fragments.rst).

    {"name": "shop.Order", "meta": {..., "fragment": {"object": "5", "audience": "public",
                                                      "html": "<tr>...</tr>"}}, "data": {...}}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from ._envelope import Envelope
from ._errors import EventError
from ._filters import F
from ._names import validate_event_name

AUDIENCE_PUBLIC = "public"
AUDIENCE_STAFF = "staff"
AUDIENCES = (AUDIENCE_PUBLIC, AUDIENCE_STAFF)
"""Who a rendering is for: everyone allowed to see the event, or staff users only."""
MAX_FRAGMENT_SIZE = 64 * 1024
"""Bytes of UTF-8 one fragment may have: a batch of events must fit the gateway ingress's
`max_body_size` (1 MiB by default)."""


def with_fragment(envelope: Envelope, object_id: str, audience: str, html: str | None) -> Envelope:
    """`envelope` with `meta.fragment`: the `html` rendered for `audience` (None for a delete:
    the browser removes the object's element)."""
    if html is not None and len(html.encode()) > MAX_FRAGMENT_SIZE:
        raise EventError(
            f"the fragment of {envelope['name']} {object_id} is over {MAX_FRAGMENT_SIZE} bytes; "
            "render less (a row, not a page)"
        )
    fragment: dict[str, Any] = {"object": object_id, "audience": audience}
    if html is not None:
        fragment["html"] = html
    meta = {**envelope["meta"], "fragment": fragment}
    if audience != AUDIENCE_PUBLIC:  # one change, several envelopes: each its own id
        meta["id"] = f"{meta['id']}-{audience}"
    return {"name": envelope["name"], "meta": meta, "data": envelope["data"]}


def audience_of(user: Any) -> str:
    """The audience whose rendering `user` receives."""
    return AUDIENCE_STAFF if getattr(user, "is_staff", False) else AUDIENCE_PUBLIC


def audience_filter(audiences: Iterable[str], user: Any) -> F | None:
    """The filter a token carries so that `user` receives only their audience's rendering
    (None when there is a single rendering)."""
    if len(tuple(audiences)) < 2:
        return None
    return F(meta__fragment__audience=audience_of(user))


def fragment_problem(owner: str, audiences: Iterable[str], public: bool) -> str | None:
    """What is wrong with a definition's `fragment_audiences` (None: nothing)."""
    chosen = tuple(audiences)
    unknown = set(chosen) - set(AUDIENCES)
    if not chosen or unknown:
        return (
            f"{owner}.fragment_audiences: {', '.join(sorted(unknown)) or 'empty'}; "
            "use AUDIENCE_PUBLIC, AUDIENCE_STAFF"
        )
    if public and chosen != (AUDIENCE_PUBLIC,):
        # Anonymous sessions read a public topic without a token, so without the filter that
        # keeps the staff rendering from them.
        return (
            f"{owner}: a public event may only have the public fragment audience; "
            "set public = False to render for staff"
        )
    return None


FRAGMENT_ACTIONS = ("append", "prepend", "replace", "remove")
"""What a marked element does with a fragment: take new objects at its end or start (and
replace or remove its own), or stand for one object and be replaced or removed itself."""


def fragment_attributes(name: str, action: str = "append") -> str:
    """The attributes that mark an element for the fragments of event `name` (for the
    template tag and the Jinja helper; escaped)."""
    if action not in FRAGMENT_ACTIONS:
        known = ", ".join(FRAGMENT_ACTIONS)
        raise ValueError(f"unknown fragment action {action!r}; use one of {known}")
    return (
        f'data-telegraphy-fragment="{escape(validate_event_name(name))}" '
        f'data-telegraphy-action="{action}"'
    )


def object_attribute(object_id: object) -> str:
    """The attribute that names the object an element shows (escaped)."""
    return f'data-telegraphy-object="{escape(str(object_id))}"'


def fragment_envelopes(
    envelope: Envelope,
    object_id: str,
    audiences: Iterable[str],
    render: Callable[[str], str],
) -> list[Envelope]:
    """`envelope` once per audience, each with its rendering (`render(audience)`); a delete's
    carry no HTML."""
    deleted = envelope["meta"].get("event_type") == "delete"
    return [
        with_fragment(envelope, object_id, audience, None if deleted else render(audience))
        for audience in audiences
    ]
