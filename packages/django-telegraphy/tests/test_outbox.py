"""The outbox in one process, on SQLite: rows are written in the change's transaction (and
vanish with its rollback), the relay delivers and settles them in order; the command, the
admin, the settings and the metric. Real processes and PostgreSQL: test_outbox_processes.py."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client, override_settings
from outbox_harness import RecordingGateway, python_blocks
from prometheus_client import CollectorRegistry
from telegraphy_demo.events import Notification
from telegraphy_demo.models import MyModel

from telegraphy.contrib.django_telegraphy import conf, metrics, outbox
from telegraphy.contrib.django_telegraphy.conf import capture_events
from telegraphy.contrib.django_telegraphy.events import send_event, send_to_channel
from telegraphy.contrib.django_telegraphy.models import OutboxEvent
from telegraphy.core import Envelope, OutboxSettings, Relay, validate_envelope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def outbox_on() -> Iterator[None]:
    # No relay thread here: the tests run the relay themselves.
    with override_settings(
        TELEGRAPHY={**settings.TELEGRAPHY, "OUTBOX": True, "OUTBOX_RELAY": False}
    ):
        yield
    outbox.stop_relays()


def relay(gateway: RecordingGateway) -> Relay:
    return Relay(outbox.DjangoOutboxStore(), gateway, OutboxSettings(enabled=True), batch_size=2)


def titles(envelopes: Sequence[Envelope]) -> list[tuple[str, str]]:
    return [(e["meta"]["event_type"], e["data"].get("title", "")) for e in envelopes]


def test_rows_are_written_in_the_transaction_and_vanish_with_its_rollback() -> None:
    with transaction.atomic():
        thing = MyModel.objects.create(title="a")
        assert OutboxEvent.objects.count() == 1  # in the same transaction, before COMMIT
        with pytest.raises(RuntimeError), transaction.atomic():
            MyModel.objects.create(title="inner, rolled back")
            raise RuntimeError
        thing.title = "b"
        thing.save()
    with pytest.raises(RuntimeError), transaction.atomic():
        MyModel.objects.create(title="rolled back")
        send_event(Notification(message="rolled back too"))
        raise RuntimeError
    rows = list(OutboxEvent.objects.order_by("id"))
    assert [(r.name, r.done) for r in rows] == [("telegraphy_demo.MyModel", None)] * 2
    envelopes = [json.loads(r.envelope) for r in rows]
    assert titles(envelopes) == [("create", "a"), ("update", "b")]
    assert [r.event_id for r in rows] == [e["meta"]["id"] for e in envelopes]
    for envelope in envelopes:
        validate_envelope(envelope)


def test_the_relay_delivers_in_order_and_settles_what_it_delivered() -> None:
    for n in range(5):
        MyModel.objects.create(title=f"t{n}")
    send_to_channel("chat.lobby", Notification(message="hi"))
    gateway = RecordingGateway()
    assert relay(gateway).drain() == 6
    assert titles(gateway.envelopes)[:5] == [("create", f"t{n}") for n in range(5)]
    assert gateway.envelopes[5]["meta"]["channel"] == "chat.lobby"
    assert not OutboxEvent.objects.filter(done__isnull=True).exists()
    assert outbox.lag() is None


def test_a_refused_event_stays_in_the_table_with_the_gateways_reason() -> None:
    for title in ("ok", "bad", "fine"):
        MyModel.objects.create(title=title)
    gateway = RecordingGateway()
    gateway.refuse.add("bad")
    relay(gateway).drain()
    assert titles(gateway.envelopes) == [("create", "ok"), ("create", "fine")]
    refused = OutboxEvent.objects.get(error="refused")
    assert refused.state == "refused" and json.loads(refused.envelope)["data"]["title"] == "bad"


def test_a_live_lease_keeps_a_second_relay_off_until_it_ends() -> None:
    MyModel.objects.create(title="a")
    store = outbox.DjangoOutboxStore()
    (row,) = store.claim(10, lease=60)
    assert store.claim(10, lease=60) == []  # another relay holds the oldest row
    store.release([row])
    assert [r.id for r in store.claim(10, lease=60)] == [row.id]


def test_capture_events_still_records_and_writes_nothing() -> None:
    with capture_events() as sent:
        MyModel.objects.create(title="captured")
    assert titles(sent) == [("create", "captured")]
    assert not OutboxEvent.objects.exists()


def test_the_command_reports_the_backlog_prunes_and_delivers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    MyModel.objects.create(title="waiting")
    out = StringIO()
    call_command("telegraphy_relay", "--status", stdout=out)
    assert "outbox of 'default': 1 event(s) waiting, the oldest has waited" in out.getvalue()
    gateway = RecordingGateway()
    monkeypatch.setattr(outbox, "make_transport", lambda core: gateway)
    out = StringIO()
    call_command("telegraphy_relay", "--until-empty", stdout=out)
    assert "1 event(s) delivered, 0 refused" in out.getvalue()
    assert titles(gateway.envelopes) == [("create", "waiting")]
    OutboxEvent.objects.update(done=OutboxEvent.objects.get().created.replace(year=2000))
    out = StringIO()
    call_command("telegraphy_relay", "--prune", stdout=out)
    assert "1 delivered row(s) deleted" in out.getvalue()
    with (
        override_settings(TELEGRAPHY={**settings.TELEGRAPHY, "OUTBOX_KEEP": None}),
        pytest.raises(CommandError, match="OUTBOX_KEEP is None"),
    ):
        call_command("telegraphy_relay", "--prune")


def test_the_admin_lists_the_outbox_read_only() -> None:
    MyModel.objects.create(title="shown")
    client = Client()
    client.force_login(User.objects.create_superuser("admin", password="x"))
    page = client.get("/admin/django_telegraphy/outboxevent/")
    assert page.status_code == 200
    assert b"telegraphy_demo.MyModel" in page.content and b"waiting" in page.content
    row = OutboxEvent.objects.get()
    assert client.post(f"/admin/django_telegraphy/outboxevent/{row.pk}/change/").status_code == 403
    assert client.get("/admin/django_telegraphy/outboxevent/add/").status_code == 403


def test_the_first_request_starts_the_relay_thread() -> None:
    with override_settings(TELEGRAPHY={**settings.TELEGRAPHY, "OUTBOX_RELAY": True}):
        Client().get("/telegraphy/token")
        relay = outbox._relays.get("default")
        assert relay is not None and relay.running
    outbox.stop_relays()
    assert not relay.running and outbox._relays.get("default") is None


def test_bad_outbox_settings_say_what_to_fix() -> None:
    with pytest.raises(Exception, match=r"OUTBOX_POLL_INTERVAL must be a positive number"):
        conf.build({"SECRET": conf.get_settings().core.secret, "OUTBOX_POLL_INTERVAL": 0})
    with (
        override_settings(TELEGRAPHY={**settings.TELEGRAPHY, "OUTBOX_DATABASES": "default"}),
        pytest.raises(ImproperlyConfigured, match="must be a list of database aliases"),
    ):
        conf.outbox_databases()


def test_the_lag_metric_reads_the_oldest_waiting_row() -> None:
    registry = CollectorRegistry()
    assert metrics.register(registry)
    assert registry.get_sample_value("telegraphy_outbox_lag_seconds") == 0.0
    MyModel.objects.create(title="late")
    OutboxEvent.objects.update(created=OutboxEvent.objects.get().created.replace(year=2000))
    assert registry.get_sample_value("telegraphy_outbox_lag_seconds") > 3600


def test_the_docs_settings_turn_the_outbox_on() -> None:
    (block,) = [b for b in python_blocks() if "TELEGRAPHY = {" in b]
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    built = conf.build(namespace["TELEGRAPHY"])
    assert built.outbox == OutboxSettings(enabled=True)
