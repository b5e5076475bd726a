"""URI validation and pattern matching (pure logic)."""

from __future__ import annotations

import pytest

from telegraphy.gateway.router.uri import Pattern, validate_pattern


@pytest.mark.parametrize(
    ("uri", "match", "valid"),
    [
        ("com.example.topic", "exact", True),
        ("com..topic", "exact", False),
        ("com.example.", "exact", False),
        ("with space", "exact", False),
        ("hash#tag", "exact", False),
        ("", "exact", False),
        ("com.example.", "prefix", True),
        ("com..x", "prefix", False),
        ("com..topic", "wildcard", True),
        (".a.", "wildcard", True),
        ("a b..c", "wildcard", False),
    ],
)
def test_validation_per_match_policy(uri: str, match: str, valid: bool) -> None:
    assert validate_pattern(uri, match) is valid


def test_prefix_is_a_string_prefix_as_the_spec_says() -> None:
    pattern = Pattern("com.myapp.topic.emergency", "prefix")
    for topic in (
        "com.myapp.topic.emergency",
        "com.myapp.topic.emergency.11",
        "com.myapp.topic.emergency-low",
        "com.myapp.topic.emergency.category.severe",
    ):
        assert pattern.matches(topic)
    assert not pattern.matches("com.myapp.topic.emerge")


def test_wildcard_matches_whole_components() -> None:
    pattern = Pattern("com.myapp..userevent", "wildcard")
    assert pattern.matches("com.myapp.foo.userevent")
    assert not pattern.matches("com.myapp.foo.bar.userevent")
    assert not pattern.matches("com.myapp.foo.userevent2")


@pytest.mark.parametrize(
    ("public", "wanted", "covered"),
    [
        (Pattern("a.b"), Pattern("a.b"), True),
        (Pattern("a.b"), Pattern("a.b", "prefix"), False),
        (Pattern("a.", "prefix"), Pattern("a.b.c"), True),
        (Pattern("a.", "prefix"), Pattern("a.b", "prefix"), True),
        (Pattern("a.b", "prefix"), Pattern("a", "prefix"), False),
        (Pattern("a.", "prefix"), Pattern("a.b..d", "wildcard"), True),
        (Pattern("a.", "prefix"), Pattern("..d", "wildcard"), False),
        (Pattern("a..c", "wildcard"), Pattern("a.b.c"), True),
        (Pattern("a..c", "wildcard"), Pattern("a.b.c", "wildcard"), True),
        (Pattern("a.b.c", "wildcard"), Pattern("a..c", "wildcard"), False),
        (Pattern("a..c", "wildcard"), Pattern("a.", "prefix"), False),
    ],
)
def test_covers_never_grants_more_than_the_public_pattern(
    public: Pattern, wanted: Pattern, covered: bool
) -> None:
    assert public.covers(wanted) is covered
