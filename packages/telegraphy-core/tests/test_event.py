"""Events: generic and declared, their meta, their checks, the envelope and send()."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Literal
from uuid import UUID

import pytest

import telegraphy.core._publisher
from telegraphy.core import Envelope, Event, EventError, EventRecorder, validate_envelope

NOW = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Recorder:
    """A Sender that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)


class Status(Enum):
    PAID = "paid"
    SHIPPED = "shipped"


class OrderShipped(Event):
    name = "shop.OrderShipped"
    verbose_name = "Order shipped"
    order_id: int
    carrier: str
    note: str | None = None
    shipped_at: datetime


class Everything(Event):
    name = "test.Everything"
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    day: date = date(2024, 1, 1)
    amount: Decimal = Decimal("0")
    ref: UUID | None = None
    status: Status = Status.PAID
    size: Literal["S", "M", 1] = "S"
    tags: list[str] | None = None
    scores: dict[str, list[int]] | None = None
    extra: Any = None
    limit: ClassVar[int] = 3  # a class setting, not a field


class HTTPCheckFailed(Event):
    url: str


class HTTPCheckFailedAgain(HTTPCheckFailed):
    status: int = 500


def test_a_generic_event_has_name_data_and_meta() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    event = Event(
        "shop.Order", {"id": 1, "total": Decimal("9.90")}, event_type="create", verbose_name="Order"
    )
    assert event.name == "shop.Order"
    assert event.data == {"id": 1, "total": "9.90"}
    assert list(event.meta) == ["event_type", "verbose_name", "timestamp", "id"]
    assert event.meta["event_type"] == "create"
    assert event.meta["verbose_name"] == "Order"
    assert TIMESTAMP.match(event.meta["timestamp"])
    when = datetime.fromisoformat(event.meta["timestamp"].replace("Z", "+00:00"))
    assert before <= when <= datetime.now(UTC)
    assert UUID(hex=event.meta["id"]).version == 4
    assert re.fullmatch(r"[0-9a-f]{32}", event.meta["id"])


def test_generic_defaults_extra_meta_and_fresh_ids() -> None:
    first, second = Event("chat.room-1"), Event("chat.room-1", meta={"room": ("a", 1)})
    assert first.data == {}
    assert first.meta["event_type"] == "custom"
    assert first.meta["verbose_name"] is None
    assert second.meta["room"] == ["a", 1]
    assert first.meta["id"] != second.meta["id"]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("shop Order",), {}, "invalid event name 'shop Order'"),
        ((7,), {}, "an event name must be a string, got int"),
        (("a.b", [1]), {}, "data must be a mapping of names to values, got list"),
        (("a.b",), {"event_type": ""}, "event_type must be a non-empty string, got ''"),
        (("a.b",), {"verbose_name": 3}, "verbose_name must be a string or None, got int"),
        (("a.b", {"pic": b""}), {}, "data.pic is bytes"),
        (("a.b",), {"meta": {"id": "x", "timestamp": "y"}}, "meta may not set id, timestamp"),
        (("a.b",), {"meta": {"when": {1: 2}}}, "meta.when has a key that is not a string: 1"),
    ],
)
def test_a_generic_event_refuses_what_is_wrong(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(EventError) as raised:
        Event(*args, **kwargs)
    assert str(raised.value).startswith(message)


def test_the_envelope_is_valid_and_holds_exactly_the_event() -> None:
    event = OrderShipped(order_id=1, carrier="UPS", shipped_at=NOW)
    envelope = event.envelope()
    assert validate_envelope(envelope) == envelope
    assert envelope == {
        "name": "shop.OrderShipped",
        "meta": {
            "event_type": "order_shipped",
            "verbose_name": "Order shipped",
            "timestamp": event.meta["timestamp"],
            "id": event.meta["id"],
        },
        "data": {
            "order_id": 1,
            "carrier": "UPS",
            "note": None,
            "shipped_at": "2024-05-01T10:30:00.000000Z",
        },
    }


def test_send_hands_the_envelope_to_the_given_sender_once() -> None:
    recorder = Recorder()
    event = Event("shop.Order", {"id": 1}, event_type="delete")
    event.send(recorder)
    assert recorder.sent == [event.envelope()]


def test_send_without_a_sender_uses_the_default_publisher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(telegraphy.core._publisher, "default_publisher", lambda: recorder)
    event = OrderShipped(order_id=2, carrier="DHL", shipped_at=NOW)
    event.send()
    assert recorder.sent == [event.envelope()]


def test_an_event_cannot_be_changed_once_made() -> None:
    event = OrderShipped(order_id=1, carrier="UPS", shipped_at=NOW)
    for name in ("order_id", "name", "data", "meta"):
        with pytest.raises(AttributeError, match="an event cannot be changed once made"):
            setattr(event, name, 2)
        with pytest.raises(AttributeError, match="an event cannot be changed once made"):
            delattr(event, name)
    event._note = "private state is the subclass's business"
    assert event.order_id == 1


def test_a_declared_event_keeps_its_values_and_sends_them_converted() -> None:
    event = OrderShipped(order_id=1, carrier="UPS", shipped_at=NOW, note="fragile")
    assert (event.order_id, event.carrier, event.note, event.shipped_at) == (
        1,
        "UPS",
        "fragile",
        NOW,
    )
    assert event.data["shipped_at"] == "2024-05-01T10:30:00.000000Z"
    assert event.name == "shop.OrderShipped"
    assert repr(event).startswith("<OrderShipped shop.OrderShipped order_shipped id=")


def test_names_types_and_verbose_names_default_from_the_class_and_are_not_inherited() -> None:
    assert (HTTPCheckFailed.name, HTTPCheckFailed.event_type, HTTPCheckFailed.verbose_name) == (
        "HTTPCheckFailed",
        "http_check_failed",
        "HTTP check failed",
    )
    event = HTTPCheckFailedAgain(url="http://x")
    assert event.meta["event_type"] == "http_check_failed_again"
    assert event.meta["verbose_name"] == "HTTP check failed again"
    assert event.data == {"url": "http://x", "status": 500}
    assert OrderShipped.event_type == "order_shipped"


def test_every_supported_type_accepts_its_values() -> None:
    event = Everything(
        count=2,
        ratio=1,
        flag=True,
        day=date(2024, 5, 1),
        amount=Decimal("1.5"),
        ref=UUID(int=1),
        status=Status.SHIPPED,
        size=1,
        tags=["a"],
        scores={"x": [1, 2]},
        extra={"free": [NOW]},
    )
    assert event.data == {
        "count": 2,
        "ratio": 1,
        "flag": True,
        "day": "2024-05-01",
        "amount": "1.5",
        "ref": "00000000-0000-0000-0000-000000000001",
        "status": "shipped",
        "size": 1,
        "tags": ["a"],
        "scores": {"x": [1, 2]},
        "extra": {"free": ["2024-05-01T10:30:00.000000Z"]},
    }
    assert "limit" not in Everything().data


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count": "1"}, "Everything.count: expected int, got str '1'"),
        ({"count": True}, "Everything.count: expected int, got bool True"),
        ({"ratio": False}, "Everything.ratio: expected float, got bool False"),
        ({"flag": 1}, "Everything.flag: expected bool, got int 1"),
        ({"day": NOW}, "Everything.day: expected date, got datetime datetime.datetime(2024, 5,"),
        ({"amount": 1.5}, "Everything.amount: expected Decimal, got float 1.5"),
        ({"ref": "x"}, "Everything.ref: expected UUID | None, got str 'x'"),
        ({"status": "paid"}, "Everything.status: expected Status, got str 'paid'"),
        ({"size": "L"}, "Everything.size: expected 'S' or 'M' or 1, got str 'L'"),
        ({"size": True}, "Everything.size: expected 'S' or 'M' or 1, got bool True"),
        ({"size": ["S"]}, "Everything.size: expected 'S' or 'M' or 1, got list ['S']"),
        ({"tags": ("a",)}, "Everything.tags: expected list[str] | None, got tuple ('a',)"),
        ({"tags": ["a", 2]}, "Everything.tags: expected list[str] | None, got list ['a', 2]"),
        ({"scores": {"x": [1, "2"]}}, "Everything.scores: expected dict[str, list[int]] | None"),
        ({"extra": {"pic": b""}}, "Everything.extra.pic is bytes"),
        ({"ratio": float("nan")}, "Everything.ratio is not a finite number (nan)"),
        ({"count": "x" * 100}, "Everything.count: expected int, got str '" + "x" * 36 + "..."),
    ],
)
def test_a_value_of_the_wrong_type_names_the_field_and_the_type(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(EventError) as raised:
        Everything(**kwargs)
    assert str(raised.value).startswith(message)


def test_nested_type_errors_say_where_inside_the_field() -> None:
    class Nested(Event):
        lines: list[dict[str, int]]

    with pytest.raises(EventError) as raised:
        Nested(lines=[{"a": 1}, {"b": "2"}])  # type: ignore[dict-item]
    assert str(raised.value) == "Nested.lines[1].b: expected int, got str '2'"
    with pytest.raises(EventError) as raised:
        Nested(lines=[{1: 1}])  # type: ignore[dict-item]
    assert str(raised.value) == "Nested.lines[0]: expected str keys, got int 1"


def test_missing_and_unknown_fields_are_named() -> None:
    with pytest.raises(EventError) as raised:
        OrderShipped(order_id=1)  # type: ignore[call-arg]
    assert str(raised.value) == "OrderShipped: missing required field(s) carrier, shipped_at"
    with pytest.raises(EventError) as raised:
        OrderShipped(order_id=1, carrier="UPS", shipped_at=NOW, colour="red")  # type: ignore[call-arg]
    assert str(raised.value) == (
        "OrderShipped: unknown field(s) colour; its fields: carrier, note, order_id, shipped_at"
    )
    with pytest.raises(TypeError):
        OrderShipped(1, "UPS", NOW)  # type: ignore[call-arg,arg-type]


def test_a_class_with_its_own_constructor_makes_its_own_data() -> None:
    class Moved(Event):
        where: ClassVar[str] = "here"

        def __init__(self, x: int) -> None:
            super().__init__("map.Moved", {"x": x, "where": self.where}, event_type="move")

    assert Moved(3).envelope()["data"] == {"x": 3, "where": "here"}
    assert Moved(3).meta["event_type"] == "move"


def test_mistakes_in_a_declaration_fail_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"\.data: 'data' cannot name a field"):

        class Reserved(Event):
            data: int  # type: ignore[assignment]

    with pytest.raises(TypeError, match=r"\._secret: '_secret' cannot name a field"):

        class Private(Event):
            _secret: str

    with pytest.raises(TypeError, match=r"\.blob: unsupported type bytes; use int, float"):

        class Unsupported(Event):
            blob: bytes

    with pytest.raises(TypeError, match=r"\.counts: dict keys must be str"):

        class IntKeys(Event):
            counts: dict[int, int]

    with pytest.raises(TypeError, match=r"\.tags: a mutable default is shared"):

        class MutableDefault(Event):
            tags: list[str] = []  # noqa: RUF012

    with pytest.raises(TypeError, match=r"\.n: the default does not fit the type: expected int"):

        class WrongDefault(Event):
            n: int = "1"  # type: ignore[assignment]

    with pytest.raises(TypeError, match=r"BadName\.name: invalid event name 'shop order'"):

        class BadName(Event):
            name = "shop order"

    with pytest.raises(TypeError, match=r"\.event_type must be a non-empty string"):

        class NoType(Event):
            event_type = ""

    with pytest.raises(TypeError, match=r"cannot resolve a field's annotation"):

        class Unresolved(Event):
            when: Later  # type: ignore[name-defined]  # noqa: F821


def test_an_event_recorder_is_a_sender_that_keeps_what_it_is_given() -> None:
    recorder = EventRecorder()
    Event("shop.Order", {"id": 1}, event_type="create").send(recorder)
    assert [e["name"] for e in recorder] == ["shop.Order"]
