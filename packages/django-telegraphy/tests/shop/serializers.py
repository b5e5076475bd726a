from pydantic import BaseModel
from rest_framework import serializers

from telegraphy.contrib.django_telegraphy.events import BaseEventModel

from .models import Order


class OrderSerializer(serializers.ModelSerializer):
    shouted = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ("id", "customer", "total", "shouted")

    def get_shouted(self, order: Order) -> str:
        return order.customer.upper()


class OrderSummary(BaseModel):
    id: int
    status: str


def order_card(order: Order) -> dict[str, object]:
    return {"id": order.pk, "title": f"Order {order.pk} for {order.customer}"}


class OrderApiEvents(BaseEventModel):
    model = Order
    name = "shop.OrderApi"
    serializer_class = OrderSerializer  # a DRF serializer


class OrderSummaryEvents(BaseEventModel):
    model = Order
    name = "shop.OrderSummary"
    serializer_class = OrderSummary  # a Pydantic model


class OrderCardEvents(BaseEventModel):
    model = Order
    name = "shop.OrderCard"
    serializer_class = order_card  # any callable that returns a mapping
