"""Fragments in the envelope: one per audience, ids kept apart, size bounded, audiences
checked, marks escaped, and each user's token filter picks their audience's rendering."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from telegraphy.core import (
    AUDIENCE_PUBLIC,
    AUDIENCE_STAFF,
    MAX_FRAGMENT_SIZE,
    Event,
    EventError,
    audience_filter,
    canonical_filter,
    fragment_attributes,
    fragment_envelopes,
    fragment_problem,
    object_attribute,
    validate_envelope,
)

BOTH = (AUDIENCE_PUBLIC, AUDIENCE_STAFF)


def test_each_audience_gets_its_rendering_in_a_valid_envelope_with_its_own_id() -> None:
    envelope = Event("shop.Order", {"id": 5}, event_type="update").envelope()
    public, staff = fragment_envelopes(envelope, "5", BOTH, lambda a: f"<tr>{a}</tr>")
    for made in (public, staff):
        assert validate_envelope(made) == made
        assert made["data"] == {"id": 5}
    assert public["meta"]["fragment"] == {
        "object": "5",
        "audience": "public",
        "html": "<tr>public</tr>",
    }
    assert staff["meta"]["fragment"]["html"] == "<tr>staff</tr>"
    assert public["meta"]["id"] == envelope["meta"]["id"]
    assert staff["meta"]["id"] == envelope["meta"]["id"] + "-staff"
    assert "fragment" not in envelope["meta"]  # the event's own envelope is left as it was


def test_a_delete_is_not_rendered() -> None:
    envelope = Event("shop.Order", {"id": 5}, event_type="delete").envelope()

    def render(audience: str) -> str:
        raise AssertionError("a delete renders nothing")

    (made,) = fragment_envelopes(envelope, "5", (AUDIENCE_PUBLIC,), render)
    assert made["meta"]["fragment"] == {"object": "5", "audience": "public"}


def test_a_fragment_over_the_limit_is_refused_with_what_to_do() -> None:
    envelope = Event("shop.Order", {}, event_type="create").envelope()
    fits = "é" * (MAX_FRAGMENT_SIZE // 2)
    fragment_envelopes(envelope, "1", (AUDIENCE_PUBLIC,), lambda a: fits)
    with pytest.raises(EventError, match="over 65536 bytes; render less"):
        fragment_envelopes(envelope, "1", (AUDIENCE_PUBLIC,), lambda a: fits + "x")


def test_the_audience_filter_picks_the_users_rendering_only_when_there_are_several() -> None:
    staff, visitor = SimpleNamespace(is_staff=True), SimpleNamespace()
    assert audience_filter((AUDIENCE_PUBLIC,), staff) is None
    assert canonical_filter(audience_filter(BOTH, staff)) == {
        "meta__fragment__audience__exact": "staff"
    }
    assert canonical_filter(audience_filter(BOTH, visitor)) == {
        "meta__fragment__audience__exact": "public"
    }


def test_audiences_are_checked() -> None:
    assert fragment_problem("Rows", BOTH, public=False) is None
    assert fragment_problem("Rows", (AUDIENCE_PUBLIC,), public=True) is None
    assert "use AUDIENCE_PUBLIC, AUDIENCE_STAFF" in str(fragment_problem("Rows", ("all",), False))
    assert "Rows.fragment_audiences: empty" in str(fragment_problem("Rows", (), False))
    assert "set public = False" in str(fragment_problem("Rows", BOTH, public=True))


def test_the_marks_are_escaped_and_checked() -> None:
    assert fragment_attributes("shop.Order") == (
        'data-telegraphy-fragment="shop.Order" data-telegraphy-action="append"'
    )
    assert object_attribute('a"<') == 'data-telegraphy-object="a&quot;&lt;"'
    with pytest.raises(ValueError, match="use one of append, prepend, replace, remove"):
        fragment_attributes("shop.Order", "swap")
    with pytest.raises(EventError):
        fragment_attributes("not a name")
