"""The demo pages; the events themselves are sent by the model and by `notifications`."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from telegraphy.contrib.django_telegraphy.events import send_to_user

from .events import Notification
from .models import MyModel


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "telegraphy_demo/index.html", {"count": MyModel.objects.count()})


def page(name: str) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, f"telegraphy_demo/{name}.html", {"objects": MyModel.objects.all()})

    view.__name__ = name
    return view


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        message = request.POST.get("message", "").strip() or "Hello!"
        send_to_user(request.user, Notification(message=message))
        return redirect("notifications")
    return render(request, "telegraphy_demo/notifications.html")


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    room = request.GET.get("room", "lobby")
    return render(request, "telegraphy_demo/chat.html", {"channel": f"chat.{room}"})
