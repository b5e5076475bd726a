"""Model events leave only after the transaction commits, and a save never waits on them."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.test import override_settings
from telegraphy_demo.events import Notification
from telegraphy_demo.models import MyModel

from telegraphy.contrib.django_telegraphy import conf
from telegraphy.contrib.django_telegraphy.conf import capture_events
from telegraphy.contrib.django_telegraphy.events import send_event, send_to_channel, send_to_user
from telegraphy.core import Envelope, Publisher, validate_envelope

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(sent: list[Envelope]) -> list[tuple[str, str, str]]:
    return [(e["name"], e["meta"]["event_type"], e["data"].get("title", "")) for e in sent]


def test_create_update_delete_each_send_one_valid_event_in_order() -> None:
    with capture_events() as sent:
        thing = MyModel.objects.create(title="a", count=1)
        thing.title = "b"
        thing.save()
        pk = thing.pk
        thing.delete()
    assert kinds(sent) == [
        ("telegraphy_demo.MyModel", "create", "a"),
        ("telegraphy_demo.MyModel", "update", "b"),
        ("telegraphy_demo.MyModel", "delete", "b"),
    ]
    assert sent[2]["data"] == {"id": pk, "title": "b", "description": "", "count": 1}
    for envelope in sent:
        validate_envelope(envelope)


def test_events_wait_for_the_commit_and_a_rollback_sends_nothing() -> None:
    with capture_events() as sent:
        with transaction.atomic():
            MyModel.objects.create(title="kept")
            with pytest.raises(RuntimeError), transaction.atomic():
                MyModel.objects.create(title="inner, rolled back")
                raise RuntimeError
            assert sent == []  # not yet: the outer transaction is open
        assert kinds(sent) == [("telegraphy_demo.MyModel", "create", "kept")]
        with pytest.raises(RuntimeError), transaction.atomic():
            MyModel.objects.create(title="rolled back")
            send_event(Notification(message="rolled back too"))
            raise RuntimeError
    assert kinds(sent) == [("telegraphy_demo.MyModel", "create", "kept")]
    assert not MyModel.objects.filter(title="rolled back").exists()


def test_disabled_sends_nothing() -> None:
    with (
        override_settings(TELEGRAPHY={**settings.TELEGRAPHY, "ENABLED": False}),
        capture_events() as sent,
    ):
        MyModel.objects.create(title="quiet")
    assert sent == []


def test_custom_events_go_to_a_channel_or_a_single_user() -> None:
    user = User.objects.create_user("ann", password="x")
    with capture_events() as sent:
        send_to_user(user, Notification(message="hi"))
        send_to_channel("chat.lobby", Notification(message="all"))
        send_event(Notification(message="everyone allowed"))
    assert [e["meta"].get("channel") for e in sent] == [f"user.{user.pk}", "chat.lobby", None]
    assert [e["data"] for e in sent] == [
        {"message": "hi"},
        {"message": "all"},
        {"message": "everyone allowed"},
    ]
    assert all(e["name"] == "telegraphy_demo.Notification" for e in sent)


class StuckTransport:
    """A gateway that takes its time: deliver() blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.batches: list[list[Envelope]] = []

    def check(self, envelope: Envelope) -> None:
        pass

    def deliver(self, batch: Sequence[Envelope]) -> None:
        self.release.wait(10)
        self.batches.append(list(batch))

    def close(self) -> None:
        self.release.set()


def test_a_save_never_waits_for_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = StuckTransport()
    publisher = Publisher(conf.get_settings().core, transport=transport)
    monkeypatch.setattr(conf, "_override", publisher)
    try:
        for n in range(20):
            MyModel.objects.create(title=f"t{n}")
        # Had a save waited on delivery, the stuck transport would have finished a batch.
        assert transport.batches == []
        transport.release.set()
        assert publisher.flush(10)
        titles = [e["data"]["title"] for batch in transport.batches for e in batch]
        assert titles == [f"t{n}" for n in range(20)]
    finally:
        publisher.close(timeout=1)
