"""The demo's model, as in the original Telegraphy demo."""

from __future__ import annotations

from django.db import models


class MyModel(models.Model):
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = "my model"

    def __str__(self) -> str:
        return self.title
