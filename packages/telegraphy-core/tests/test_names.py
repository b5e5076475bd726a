"""Event names and the WAMP topics they are published on."""

from __future__ import annotations

import pytest

from telegraphy.core import (
    DEFAULT_REALM,
    DEFAULT_TOPIC_PREFIX,
    EventError,
    event_topic,
    validate_event_name,
)


@pytest.mark.parametrize(
    "name", ["shop.Order", "chat.room-1", "user.42", "Order", "a.b.c.d", "ü.naïve", "x" * 200]
)
def test_names_that_can_name_an_event(name: str) -> None:
    assert validate_event_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "shop Order", "shop.", ".shop", "shop..Order", "shop.#", "tab\there", "x" * 201],
)
def test_names_that_cannot(name: str) -> None:
    with pytest.raises(EventError) as raised:
        validate_event_name(name)
    assert str(raised.value).startswith(f"invalid event name {name!r}: use dot-separated words")
    assert "for example 'shop.Order'" in str(raised.value)


def test_a_name_must_be_a_string() -> None:
    with pytest.raises(EventError, match=r"^an event name must be a string, got bytes$"):
        validate_event_name(b"shop.Order")


def test_topics_are_the_name_under_a_prefix() -> None:
    assert (DEFAULT_REALM, DEFAULT_TOPIC_PREFIX) == ("telegraphy", "telegraphy.event")
    assert event_topic("shop.Order") == "telegraphy.event.shop.Order"
    assert event_topic("chat.room-1", "acme.rt") == "acme.rt.chat.room-1"
    with pytest.raises(EventError, match="invalid event name 'bad name'"):
        event_topic("bad name")
