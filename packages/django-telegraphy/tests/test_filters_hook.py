"""The filters page's Python runs as shown: `F` gives the wire form it says, and a
`BaseEventModel`'s `filter_for_user` puts a filter in the user's token, none for staff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from telegraphy_demo.models import MyModel

from telegraphy.contrib.django_telegraphy import tokens
from telegraphy.contrib.django_telegraphy.conf import get_settings
from telegraphy.core import read_token

PAGE = Path(__file__).resolve().parents[3] / "docs" / "filters.rst"


def python_blocks() -> list[str]:
    """Every `.. code-block:: python` of the filters page, dedented."""
    lines = PAGE.read_text().splitlines()
    blocks = []
    for start, line in enumerate(lines):
        if line.strip() == ".. code-block:: python":
            body = []
            for text in lines[start + 2 :]:
                if text.strip() and not text.startswith("   "):
                    break
                body.append(text[3:])
            blocks.append("\n".join(body))
    return blocks


def test_the_helper_example_runs() -> None:
    helper, _ = python_blocks()
    exec(helper, {})


@pytest.mark.django_db
def test_the_django_hook_puts_the_users_filter_in_the_token() -> None:
    _, hook = python_blocks()
    namespace: dict[str, Any] = {"Order": MyModel, "__name__": "shop.events"}
    exec(hook, namespace)
    namespace["OrderEvents"].name = "shop.Order"  # the demo's own events use the model's name
    events = namespace["OrderEvents"]()
    events.register()
    try:
        ann = User.objects.create_user("ann")
        staff = User.objects.create_user("boss", is_staff=True)
        token, _ = tokens.token_for(ann)
        claims = read_token(get_settings().core.secret, token)
        assert claims.grants.filters == {events.name: {"data__customer__exact": ann.pk}}
        assert tokens.grants(staff).filters == {}
        assert events.name in tokens.grants(staff).subscribe_events
    finally:
        events.unregister()
