"""Filters in process: the compiled predicate agrees with a plain reference evaluation written
here, for generated events and filters; a token's filter cannot be widened by any filter a
client adds; subscribers with one filter cost one evaluation and one frame per codec."""

from __future__ import annotations

import json
import operator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from in_process import joined, memory_realm, receive
from telegraphy.core import FilterError, Grants, canonical_filter, conjoin_filters
from telegraphy.core._filters import LOOKUPS
from telegraphy.gateway import GatewayConfig
from telegraphy.gateway.engines.base import ClientRecord, Draft
from telegraphy.gateway.engines.serial import record_from_json, record_to_json
from telegraphy.gateway.router.filters import Compiler, document
from telegraphy.gateway.router.uri import Pattern
from telegraphy.gateway.wire import CODECS

MISSING = object()
ORDERED = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
ENDS = {"startswith": str.startswith, "endswith": str.endswith}

# -- the reference: the documented semantics, evaluated directly on the filter as written -----


def reference(f: dict[str, Any], event: dict[str, Any]) -> bool:
    verdicts = []
    for key, value in f.items():
        if key == "and":
            verdicts.append(all(reference(x, event) for x in value))
        elif key == "or":
            verdicts.append(any(reference(x, event) for x in value))
        elif key == "not":
            verdicts.append(not reference(value, event))
        else:
            verdicts.append(condition(key, value, event))
    return all(verdicts)


def condition(key: str, value: Any, event: dict[str, Any]) -> bool:
    parts = key.split("__")
    lookup = parts.pop() if len(parts) > 1 and parts[-1] in LOOKUPS else "exact"
    node = event["meta"] if parts[0] == "meta" else event["data"]
    for part in parts[1:] if parts[0] in ("data", "meta") else parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            node = MISSING
            break
    if lookup == "exact" and value is None:
        lookup, value = "isnull", True
    return compare(lookup, node, value)


def kind(x: Any) -> str:
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int | float):
        return "number"
    return "string" if isinstance(x, str) else "other"


def same(a: Any, b: Any) -> bool:
    return kind(a) == kind(b) != "other" and a == b


def compare(lookup: str, node: Any, value: Any) -> bool:
    text = isinstance(node, str)
    if lookup == "isnull":
        return (node is None or node is MISSING) == value
    if lookup == "exact":
        return same(node, value)
    if lookup == "in":
        return any(same(node, v) for v in value)
    if lookup in ORDERED:
        return kind(node) == kind(value) in ("number", "string") and ORDERED[lookup](node, value)
    if lookup == "range":
        low, high = value
        return kind(node) == kind(low) in ("number", "string") and low <= node <= high
    if lookup == "contains":
        if text:
            return isinstance(value, str) and value in node
        return isinstance(node, list) and any(same(x, value) for x in node)
    if lookup == "icontains":
        if text:
            return value.casefold() in node.casefold()
        return isinstance(node, list) and any(
            isinstance(x, str) and x.casefold() == value.casefold() for x in node
        )
    if not text:
        return False
    if lookup == "iexact":
        return node.casefold() == value.casefold()
    folded = lookup.startswith("i")
    check = ENDS[lookup.removeprefix("i")]
    return check(node.casefold(), value.casefold()) if folded else check(node, value)


# -- generated events and filters -----------------------------------------------------------

FIELDS = ["a", "b", "0"]
# Few values, so that events and filters often meet (1 and 1.0 and true, "a" and "A").
texts = st.sampled_from(["", "a", "A", "ab", "aB", "É", "é", "bé"]) | st.text("aAbé", max_size=3)
numbers = st.sampled_from([0, 1, 1.0, -1, 2.5]) | st.integers(-3, 3) | st.floats(-3, 3)
scalars = st.none() | st.booleans() | numbers | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {
        "data": st.fixed_dictionaries(
            {}, optional={"a": scalars, "b": scalars | values, "0": values}
        ),
        "meta": st.fixed_dictionaries({"event_type": st.sampled_from(["create", "update"])}),
    }
)
paths = st.one_of(
    st.sampled_from([["a"], ["b"]]),
    st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=2),
    st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3).map(lambda p: ["data", *p]),
    st.just(["meta", "event_type"]),
    st.just(["meta", "missing"]),
)


def cousins(value: Any) -> list[Any]:
    """Values a filter may confuse with `value`: the same text in another case, a number of
    another type, true for 1."""
    if isinstance(value, bool):
        return [value, int(value), float(value)]
    if isinstance(value, int | float):
        return [value, float(value), value + 1, value - 1, *([True] if value == 1 else [])]
    if isinstance(value, str):
        return [value, value.upper(), value.lower(), value[:1], value[1:], value + "b"]
    return []


def scalars_in(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in scalars_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in scalars_in(v)]
    return cousins(value)


@st.composite
def cases(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event, and a filter whose values are mostly near the event's own."""
    event = draw(events)
    pool = scalars_in(event) or [0]
    near = st.sampled_from(pool)
    texts_near = (
        near.filter(lambda v: isinstance(v, str))
        if any(isinstance(v, str) for v in pool)
        else texts
    )
    numbers_near = (
        near.filter(lambda v: kind(v) == "number")
        if any(kind(v) == "number" for v in pool)
        else numbers
    )
    scalar = near | scalars
    text = texts_near | texts
    ordered = numbers_near | texts_near | numbers | texts
    by_lookup = {
        "": scalar,
        "exact": scalar,
        "in": st.lists(scalar.filter(lambda v: v is not None), min_size=1, max_size=4),
        "range": st.tuples(numbers_near | numbers, numbers_near | numbers).map(sorted)
        | st.tuples(text, text).map(sorted),
        "isnull": st.booleans(),
        "contains": scalar.filter(lambda v: v is not None),
        **{lookup: ordered for lookup in ORDERED},
        **{
            lookup: text
            for lookup in ["iexact", "icontains", "startswith", "istartswith", *ENDS, "iendswith"]
        },
    }

    @st.composite
    def conditions(draw: Any) -> dict[str, Any]:
        path = draw(paths)
        lookup = draw(st.sampled_from(sorted(by_lookup)))
        key = "__".join(path + ([lookup] if lookup else []))
        return {key: draw(by_lookup[lookup])}

    filters = st.recursive(
        conditions(),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: {"and": fs}),
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: {"or": fs}),
            inner.map(lambda f: {"not": f}),
            st.tuples(conditions(), inner).map(lambda p: {**p[1], **p[0]}),
        ),
        max_leaves=5,
    )
    return draw(filters), event


def compiled(f: dict[str, Any] | None, event: dict[str, Any]) -> bool:
    predicate = Compiler().compile(canonical_filter(f))
    envelope = {"name": "shop.Order", **event}
    return predicate is None or predicate.test(document(Draft("t", [envelope])))


@settings(max_examples=500, deadline=None)
@given(cases())
def test_the_compiled_filter_agrees_with_the_reference(case: Any) -> None:
    f, event = case
    assert compiled(f, event) == reference(f, event)


@settings(max_examples=100, deadline=None)
@given(cases())
def test_the_canonical_form_is_a_filter_with_the_same_canonical_form(case: Any) -> None:
    f, _ = case
    once = canonical_filter(f)
    assert canonical_filter(once or {}) == once
    assert canonical_filter(json.loads(json.dumps(f))) == once  # through the wire


@settings(max_examples=250, deadline=None)
@given(cases(), cases())
def test_no_client_filter_widens_the_token_filter(case: Any, other: Any) -> None:
    (granted, event), (asked, _) = case, other
    seen = compiled(conjoin_filters(canonical_filter(granted), canonical_filter(asked)), event)
    assert not seen or reference(granted, event)
    assert seen == (reference(granted, event) and reference(asked, event))


def test_type_mismatches_and_missing_keys_are_false_never_errors() -> None:
    event = {"data": {"total": "12", "flag": True, "n": None}, "meta": {}}
    assert not compiled({"total__gt": 3}, event)  # a string is not more than a number
    assert not compiled({"flag": 1}, event)  # true is not 1
    assert not compiled({"flag__gt": 0}, event)
    assert not compiled({"nope__lt": 3}, event)
    assert compiled({"nope__isnull": True}, event) and compiled({"n": None}, event)
    assert compiled({"not": {"nope__lt": 3}}, event)
    assert compiled({"total__in": ["12", 12]}, event)


def test_bad_filters_say_what_is_wrong() -> None:
    cases = {
        "total__gtt": "unknown lookup 'gtt' (did you mean 'gt'?",
        "total__in": "'total__in' needs a list of 1 to 256 values",
        "a____b": "is not a field path",
        "name__startswith": "'name__startswith' needs a string, got a number",
    }
    for key, message in cases.items():
        try:
            canonical_filter({key: 1})
        except FilterError as e:
            assert message in str(e), (key, str(e))
        else:
            raise AssertionError(f"{key} was accepted")


# -- grouping ----------------------------------------------------------------------------------


def test_one_evaluation_and_one_frame_per_codec_for_subscribers_with_one_filter() -> None:
    realm = memory_realm(GatewayConfig())
    publisher, _ = joined(realm)
    same = [{"status": "paid"}, {"data__status__exact": "paid"}]  # one filter, two spellings
    subscribers = [joined(realm, p) for p in ["wamp.2.json"] * 20 + ["wamp.2.msgpack"] * 20]
    for i, (session, transport) in enumerate(subscribers):
        receive(session, [32, 1, {"filter": same[i % 2]}, "shop.order"])
        transport.frames.clear()
    unpaid, _ = joined(realm)
    receive(unpaid, [32, 1, {"filter": {"status": "new"}}, "shop.order"])
    before = realm.broker.filter_evaluations

    receive(publisher, [16, 2, {}, "shop.order", [{"data": {"status": "paid"}}]])
    receive(publisher, [16, 3, {}, "shop.order", [{"data": {"status": "new"}}]])

    assert realm.broker.filter_evaluations - before == 4  # 2 distinct filters, 2 publications
    assert all(len(t.frames) == 1 for _, t in subscribers)
    for codec in CODECS.values():
        frames = [t.frames[0] for _, t in subscribers if t.codec is codec]
        assert len({id(frame) for frame in frames}) <= 1  # one bytes object per codec
    ids = {s for s in realm.broker.subscriptions_of(subscribers[0][0])}
    assert {s.filter.key for s in ids if s.filter} == {'{"data__status__exact":"paid"}'}


def test_client_records_keep_filters_and_read_records_from_before_filters() -> None:
    grants = Grants(("shop.Order",), filters={"shop.Order": {"customer__id": 3}})
    asked = Pattern("shop.order", "exact", '{"status":"paid"}')
    record = ClientRecord("c", "3", grants, 10, [asked, Pattern("a.")], {asked: {}})
    assert record_from_json(json.loads(json.dumps(record_to_json(record)))) == record
    before = {
        "client_id": "c",
        "user": None,
        "grants": [["shop.Order"], [], []],
        "expires_at": 10,
        "subscriptions": [["shop.order", "exact"]],
        "persistent": [["shop.order", "exact", {"shop.order": [4, "e"]}]],
        "left_at": None,
    }
    old = record_from_json(before)
    assert old.subscriptions == [Pattern("shop.order")] and old.grants.filters == {}
    assert record_to_json(old) == before


def test_meta_events_go_through_filters_too() -> None:
    realm = memory_realm(GatewayConfig())
    (watcher, seen), (picky, unseen) = joined(realm), joined(realm)
    receive(watcher, [32, 1, {"filter": {"authrole": "anonymous"}}, "wamp.session.on_join"])
    receive(picky, [32, 1, {"filter": {"authrole": "user"}}, "wamp.session.on_join"])
    seen.frames.clear()
    unseen.frames.clear()

    joined(realm)  # an anonymous session joins: wamp.session.on_join carries its details

    assert [e[4][0]["authrole"] for e in seen.events()] == ["anonymous"]
    assert unseen.events() == []
