"""Definitions and their registry: names, clashes, grants and public topics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from telegraphy.core import (
    ChannelDefinition,
    ConfigurationError,
    Definition,
    Event,
    EventError,
    Grants,
    Registry,
    Settings,
    operations_problem,
)


@dataclass
class User:
    is_authenticated: bool = True
    is_staff: bool = False


ANN, ANONYMOUS = User(), User(is_authenticated=False)


class Orders(Definition):
    name = "shop.Order"


class Prices(Definition):
    name = "shop.Price"
    public = True


class Chat(ChannelDefinition):
    name = "chat.*"
    publish = True


class News(ChannelDefinition):
    name = "news"
    public = True


class Audit(Event):
    name = "ops.Audit"

    @classmethod
    def is_authorized_user(cls, user: Any) -> bool:
        return bool(getattr(user, "is_staff", False))


class Ping(Event):
    name = "ops.Ping"
    public: ClassVar[bool] = True


def filled() -> Registry:
    registry = Registry()
    for definition in (Orders(), Prices(), Chat(), News()):
        registry.register(definition)
    registry.register_event(Audit)
    registry.register_event(Ping)
    return registry


def test_authorization_defaults_to_signed_in_users_unless_public() -> None:
    assert Orders().is_authorized_user(ANN) and not Orders().is_authorized_user(ANONYMOUS)
    assert Prices().is_authorized_user(ANONYMOUS)
    assert not Orders().is_authorized_user(None)


def test_events_and_channels_are_kept_apart_and_listed_by_name() -> None:
    registry = filled()
    assert [d.name for d in registry.registered_events()] == [
        "ops.Audit",
        "ops.Ping",
        "shop.Order",
        "shop.Price",
    ]
    assert [c.name for c in registry.registered_channels()] == ["chat.*", "news"]
    assert registry.event_classes() == {Orders, Prices, Audit, Ping}
    ping = registry.events["ops.Ping"]
    assert ping.public and ping.is_authorized_user(ANONYMOUS)


def test_registering_a_class_again_returns_the_first_and_a_name_clash_is_refused() -> None:
    registry = Registry()
    first = registry.register(Orders())
    assert registry.register(Orders()) is first
    assert registry.register_event(Audit) is Audit and registry.register_event(Audit) is Audit

    class OtherOrders(Definition):
        name = "shop.Order"

    with pytest.raises(ConfigurationError, match=r"two definitions are named 'shop\.Order'"):
        registry.register(OtherOrders())

    class OtherAudit(Event):
        name = "ops.Audit"

    with pytest.raises(ConfigurationError, match=r"Audit and .*OtherAudit"):
        registry.register_event(OtherAudit)


def test_the_clash_error_is_the_adapters_choice() -> None:
    class Improper(Exception):
        pass

    registry = Registry(error=Improper)
    registry.register(Orders())

    class Clash(Definition):
        name = "shop.Order"

    with pytest.raises(Improper, match="give one of them another `name`"):
        registry.register(Clash())


def test_unregister_removes_only_the_same_class() -> None:
    registry = filled()

    class Stranger(Definition):
        name = "shop.Order"

    registry.unregister(Stranger())
    assert "shop.Order" in registry.events
    registry.unregister(Orders())  # another instance of the registered class
    registry.unregister(Chat())
    registry.unregister(Chat())  # not there: nothing happens
    assert "shop.Order" not in registry.events and "chat.*" not in registry.channels


def test_a_channel_needs_a_dotted_name_or_pattern() -> None:
    class Bad(ChannelDefinition):
        name = "chat room"

    with pytest.raises(EventError):
        Registry().register(Bad())


def test_grants_follow_authorization_and_add_the_users_own_channel() -> None:
    registry = filled()
    assert registry.grants(ANN, "42") == Grants(
        subscribe_events=("ops.Ping", "shop.Order", "shop.Price"),
        subscribe_channels=("chat.*", "news", "user.42"),
        publish_channels=("chat.*",),
    )
    staff = User(is_staff=True)
    assert "ops.Audit" in registry.grants(staff, "7").subscribe_events
    assert registry.grants(ANONYMOUS, None) == Grants(
        subscribe_events=("ops.Ping", "shop.Price"), subscribe_channels=("news",)
    )


def test_public_patterns_are_the_public_events_and_channels_as_topics() -> None:
    settings = Settings(secret="s" * 16, topic_prefix="app.event", channel_prefix="app.channel")

    class Rooms(ChannelDefinition):
        name = "room.*"
        public = True

    registry = filled()
    registry.register(Rooms())
    assert registry.public_patterns(settings) == [
        {"uri": "app.event.ops.Ping", "match": "exact"},
        {"uri": "app.event.shop.Price", "match": "exact"},
        {"uri": "app.channel.news", "match": "exact"},
        {"uri": "app.channel.room.", "match": "prefix"},
    ]


def test_operations_must_be_create_update_or_delete() -> None:
    assert operations_problem("Orders", ["create", "delete"]) is None
    assert operations_problem("Orders", None) is None
    assert operations_problem("Orders", ["upsert", "create", "merge"]) == (
        "Orders.operations: unknown merge, upsert; use OP_CREATE, OP_UPDATE, OP_DELETE"
    )
