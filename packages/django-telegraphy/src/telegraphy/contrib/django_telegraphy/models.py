"""The outbox table: events written in the transaction of the change, until the relay sends them.

Used only with `TELEGRAPHY = {"OUTBOX": True}`; see docs/outbox.rst.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """One event waiting for (or done with) delivery to the gateway, in `id` order."""

    id: models.BigAutoField[int, int] = models.BigAutoField(primary_key=True)
    name: models.CharField[str, str] = models.CharField(max_length=200)
    event_id: models.CharField[str, str] = models.CharField("event id", max_length=100)
    envelope: models.TextField[str, str] = models.TextField(
        help_text="The event as JSON, as it is sent to the gateway."
    )
    created: models.DateTimeField[datetime, datetime] = models.DateTimeField(default=timezone.now)
    leased_until: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    done: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True, help_text="When the gateway accepted (or refused) the event."
    )
    error: models.TextField[str, str] = models.TextField(
        blank=True, default="", help_text="Why the gateway refused it."
    )

    class Meta:
        db_table = "telegraphy_outbox"
        verbose_name = "outbox event"
        ordering = ("-id",)
        indexes = (
            models.Index(
                fields=["id"],
                condition=models.Q(done__isnull=True),
                name="telegraphy_outbox_waiting",
            ),
            models.Index(fields=["done"], name="telegraphy_outbox_done"),
        )

    def __str__(self) -> str:
        return f"{self.name} {self.event_id}"

    @property
    def state(self) -> str:
        if self.done is None:
            return "waiting"
        return "refused" if self.error else "delivered"
