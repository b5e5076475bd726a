"""`F`, the canonical form, and filters in grants and tokens."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from telegraphy.core import (
    CustomDefinition,
    Definition,
    Event,
    F,
    FilterError,
    Grants,
    TokenError,
    canonical_filter,
    conjoin_filters,
    filter_text,
    grants_for,
    mint_token,
    read_token,
)

SECRET = "filters-secret-0123456789abcdef"


def test_f_combines_like_q_and_gives_the_canonical_wire_form() -> None:
    either = F(customer__id=3) | F(status__in=["shipped", "paid", "paid"])
    assert either.to_json() == {
        "or": [{"data__customer__id__exact": 3}, {"data__status__in": ["paid", "shipped"]}]
    }
    both = F(total__gt=100) & ~F(meta__event_type="delete")
    assert both.to_json() == {
        "and": [{"data__total__gt": 100}, {"not": {"meta__event_type__exact": "delete"}}]
    }
    assert ~~F(a=1) == F(a=1) == F({"data__a__exact": 1}) == F(F(a=1), F(a=1))
    assert F(a=1, b=2) == F(b=2) & F(a=1)
    assert F().to_json() == {} and (F() | F(a=1)) == F()
    assert F(n=None) == F(n__isnull=True)
    assert hash(F(a=1)) == hash(F(data__a=1)) and repr(F(a=1)) == 'F({"data__a__exact":1})'


def test_f_values_are_converted_as_event_data_is() -> None:
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert F(at__gte=moment, price=Decimal("9.90")).to_json() == {
        "and": [
            {"data__at__gte": "2026-01-02T03:04:05.000000Z"},
            {"data__price__exact": "9.90"},
        ]
    }
    with pytest.raises(FilterError, match="'total__gt' needs a number or a string"):
        F(total__gt=[1])
    with pytest.raises(FilterError, match="bytes"):
        F(blob=b"x")


def test_canonical_text_ignores_spelling_and_order() -> None:
    one = canonical_filter({"b": 1, "a__exact": "x", "and": [{"and": [{"c__gt": 2}]}]})
    other = canonical_filter({"and": [{"c__gt": 2}, {"data__a": "x"}], "data__b__exact": 1})
    assert filter_text(one) == filter_text(other)
    assert canonical_filter({}) is None and canonical_filter({"or": [{}, {"a": 1}]}) is None
    assert conjoin_filters(None, None) is None
    assert conjoin_filters(one, one) == one


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "filter must be an object, got a list"),
        ({"and": {}}, "filter.and must be a non-empty list of filters"),
        ({"or": [1]}, r"filter.or\[0\] must be an object, got a number"),
        ({"a__isnull": 1}, "'a__isnull' needs true or false"),
        ({"a__range": [1]}, r"'a__range' needs \[low, high\]"),
        ({"a__in": [None]}, "for null: isnull"),
        ({"a__startswith": 1}, "'a__startswith' needs a string, got a number"),
        ({"a": float("nan")}, "a number JSON cannot carry"),
        ({"a__b__c__d__e__f__g__h__i": 1}, "up to 8 field names"),
        ({f"a{i}": 1 for i in range(65)}, "more than 64 conditions"),
        ({"a__in": list(range(257))}, "a list of 1 to 256 values"),
        ({"a": "x" * 1025}, "longer than 1024 characters"),
        ({f"a{i}__in": [str(j) * 9 for j in range(40)] for i in range(60)}, "longer than 16384"),
        ({"lines__lenght": 1}, None),  # not close to a lookup: a nested field
    ],
)
def test_bad_filters_say_what_is_wrong(value: Any, message: str | None) -> None:
    if message is None:
        assert canonical_filter(value) == {"data__lines__lenght__exact": 1}
        return
    with pytest.raises(FilterError, match=message):
        canonical_filter(value)


def test_grants_keep_filters_in_canonical_form_and_tokens_carry_them() -> None:
    grants = Grants(("shop.Order",), filters={"shop.Order": F(customer__id=3), "shop.Any": {}})
    assert grants.filters == {"shop.Order": {"data__customer__id__exact": 3}}
    claims = read_token(SECRET, mint_token(SECRET, "3", grants))
    assert claims.grants == grants
    with pytest.raises(FilterError):
        Grants(("shop.Order",), filters={"shop.Order": {"id__gtt": 1}})
    plain = read_token(SECRET, mint_token(SECRET, "3", Grants(("shop.Order",))))
    assert plain.grants.filters == {}


def test_a_token_with_a_bad_filter_claim_is_malformed() -> None:
    from telegraphy.core._tokens import _b64, _mac

    payload = {"sub": "3", "iat": 2_000_000_000, "exp": 2_000_000_060, "jti": "x"}
    for filters in ({"shop.Order": {"id__gtt": 1}}, ["shop.Order"]):
        body = "tg1." + _b64(json.dumps({**payload, "filters": filters}).encode())
        token = f"{body}.{_b64(_mac(SECRET, body))}"
        with pytest.raises(TokenError, match="invalid token"):
            read_token(SECRET, token, now=2_000_000_010)


class Customer:
    is_authenticated = True

    def __init__(self, pk: int) -> None:
        self.pk = pk


class Orders(Definition):
    name = "shop.Order"

    def filter_for_user(self, user: Any) -> F:
        return F(customer=user.pk)


class Invoiced(Event):
    name = "shop.Invoiced"
    public: ClassVar[bool] = False

    @classmethod
    def filter_for_user(cls, user: Any) -> dict[str, Any]:
        return {"customer": user.pk}


def test_grants_for_puts_each_authorized_definitions_filter() -> None:
    class Hidden(Orders):
        name = "shop.Hidden"

        def is_authorized_user(self, user: Any) -> bool:
            return False

    definitions = [Orders(), CustomDefinition(Invoiced), Hidden()]
    grants = grants_for(Customer(7), definitions)
    assert grants.subscribe_events == ("shop.Invoiced", "shop.Order")
    assert grants.filters == {
        "shop.Order": {"data__customer__exact": 7},
        "shop.Invoiced": {"data__customer__exact": 7},
    }
    assert Definition().filter_for_user(Customer(7)) is None
