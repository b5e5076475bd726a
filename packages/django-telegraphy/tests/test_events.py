"""Event definitions: the seeds' BaseEventModel attributes, registration and autodiscovery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured
from telegraphy_demo.events import ChatChannel, MyEventsModel, Notification
from telegraphy_demo.models import MyModel

from telegraphy.contrib.django_telegraphy import events
from telegraphy.contrib.django_telegraphy.events import (
    OP_CREATE,
    OP_DELETE,
    BaseEventModel,
    register_event,
)
from telegraphy.core import Event


def instance() -> MyModel:
    return MyModel(id=7, title="Hello", description="first", count=3)


def test_defaults_name_the_event_after_app_and_model_and_send_every_field() -> None:
    event = MyEventsModel().event(instance(), OP_CREATE)
    assert event.name == "telegraphy_demo.MyModel"
    assert event.meta["event_type"] == "create"
    assert event.meta["verbose_name"] == "my model"
    assert event.data == {"id": 7, "title": "Hello", "description": "first", "count": 3}


def test_fields_exclude_name_and_verbose_name_are_honoured() -> None:
    class Only(BaseEventModel):
        model = MyModel
        fields: ClassVar[Any] = ["title", "count"]
        exclude: ClassVar[Any] = ["title"]  # ignored: fields wins, as the seeds say
        name = "demo.Only"
        verbose_name = "Only some"

    class Without(BaseEventModel):
        model = MyModel
        exclude: ClassVar[Any] = ["description"]

    only = Only().event(instance(), OP_DELETE)
    assert (only.name, only.meta["verbose_name"]) == ("demo.Only", "Only some")
    assert only.data == {"title": "Hello", "count": 3}
    assert Without().event(instance(), OP_CREATE).data == {"id": 7, "title": "Hello", "count": 3}


def test_the_models_own_to_dict_wins_over_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    class Some(BaseEventModel):
        model = MyModel
        fields: ClassVar[Any] = ["count"]

    monkeypatch.setattr(
        MyModel, "to_dict", lambda self: {"shout": self.title.upper()}, raising=False
    )
    assert Some().event(instance(), OP_CREATE).data == {"shout": "HELLO"}


def test_mistakes_are_reported_when_the_class_is_used() -> None:
    class NoModel(BaseEventModel):
        pass

    class BadOperation(BaseEventModel):
        model = MyModel
        operations: ClassVar[Any] = ("create", "upsert")

    class BadField(BaseEventModel):
        model = MyModel
        fields: ClassVar[Any] = ["title", "colour"]

    with pytest.raises(ImproperlyConfigured, match="model is not set"):
        NoModel()
    with pytest.raises(ImproperlyConfigured, match="unknown upsert"):
        BadOperation()
    with pytest.raises(ImproperlyConfigured, match="has no field colour"):
        BadField().to_dict(instance())


def test_authorization_defaults_to_signed_in_users_unless_public() -> None:
    user, anonymous = User(pk=1, username="ann"), AnonymousUser()
    demo = MyEventsModel()  # public = True
    notification = next(d for d in events.registered_events() if d.name == Notification.name)
    assert demo.is_authorized_user(anonymous) and demo.is_authorized_user(user)
    assert not notification.is_authorized_user(anonymous)
    assert notification.is_authorized_user(user)
    assert not ChatChannel().is_authorized_user(anonymous)


@pytest.fixture
def clean_registry() -> Iterator[None]:
    before = (dict(events._events), dict(events._channels))
    yield
    events._events.clear()
    events._events.update(before[0])
    events._channels.clear()
    events._channels.update(before[1])


def test_app_ready_discovered_the_demo_and_autodiscover_again_adds_nothing(
    clean_registry: None,
) -> None:
    names = [d.name for d in events.registered_events()]
    # Test apps (the bulk tests' shop) may have registered theirs too, depending on the order
    # modules were imported in: the demo's are what app ready discovered.
    demo = [name for name in names if name.startswith("telegraphy_demo.")]
    assert demo == ["telegraphy_demo.MyModel", "telegraphy_demo.Notification"]
    assert [c.name for c in events.registered_channels()] == ["chat.*"]
    events.autodiscover()
    events.autodiscover()
    assert [d.name for d in events.registered_events()] == names
    assert MyEventsModel().register() is not None  # the same class again: a no-op
    assert [d.name for d in events.registered_events()] == names


def test_two_classes_with_one_name_are_refused(clean_registry: None) -> None:
    class Clash(BaseEventModel):
        model = MyModel

    with pytest.raises(ImproperlyConfigured, match="two definitions are named"):
        Clash().register()

    @register_event
    class Ping(Event):
        name = "demo.Ping"
        public: ClassVar[bool] = True

    assert any(d.name == "demo.Ping" and d.public for d in events.registered_events())
    with pytest.raises(ImproperlyConfigured, match=r"demo\.Ping"):

        @register_event
        class Pong(Event):
            name = "demo.Ping"
