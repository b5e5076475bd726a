from django.db import models

from telegraphy.contrib.django_telegraphy.bulk import EventManager


class Order(models.Model):
    customer = models.CharField(max_length=40)
    status = models.CharField(max_length=20, default="new")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    objects = EventManager()


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.CharField(max_length=40)
    quantity = models.IntegerField(default=1)

    objects = EventManager()
