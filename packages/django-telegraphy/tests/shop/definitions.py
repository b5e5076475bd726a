from telegraphy.contrib.django_telegraphy.bulk import BULK_BATCH, BULK_ROWS
from telegraphy.contrib.django_telegraphy.events import BaseEventModel

from .models import Line, Order


class OrderEvents(BaseEventModel):
    model = Order
    bulk = BULK_ROWS  # one event per row, as save() sends


class LineEvents(BaseEventModel):
    model = Line
    bulk = BULK_BATCH  # one event per 100 rows: data = {"objects": [...]}
    batch_size = 100
