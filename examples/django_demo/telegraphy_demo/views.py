"""The demo pages; the events themselves are sent by the model and by `notifications`."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from telegraphy.contrib.django_telegraphy.events import send_to_user

from .events import Notification
from .models import MyModel


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "telegraphy_demo/index.html", {"count": MyModel.objects.count()})


def page(name: str) -> Callable[[HttpRequest], HttpResponse]:
    # Same-origin frames allowed: the editor shows these pages side by side.
    @xframe_options_sameorigin
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, f"telegraphy_demo/{name}.html", {"objects": MyModel.objects.all()})

    view.__name__ = name
    return view


@xframe_options_sameorigin
def models(request: HttpRequest) -> HttpResponse:
    """The editor's left side: create a MyModel here, change or delete one at `model`."""
    if request.method == "POST":
        MyModel.objects.create(**_fields(request))
        return redirect("models")
    return render(request, "telegraphy_demo/models.html", {"objects": MyModel.objects.all()})


@require_POST
def model(request: HttpRequest, pk: int) -> HttpResponse:
    thing = get_object_or_404(MyModel, pk=pk)
    if "delete" in request.POST:
        thing.delete()
    else:
        for name, value in _fields(request).items():
            setattr(thing, name, value)
        thing.save()
    return redirect("models")


def _fields(request: HttpRequest) -> dict[str, object]:
    title = request.POST.get("title", "").strip() or "untitled"
    try:
        count = int(request.POST.get("count", "0"))
    except ValueError:
        count = 0
    return {"title": title[:100], "count": count}


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        message = request.POST.get("message", "").strip() or "Hello!"
        send_to_user(request.user, Notification(message=message))
        # The page's script posts and stays (the notification arrives on the page it is
        # on); a form posted without it reloads the page.
        if request.headers.get("X-Requested-With") == "fetch":
            return HttpResponse(status=204)
        return redirect("notifications")
    return render(request, "telegraphy_demo/notifications.html")


@login_required
def chat(request: HttpRequest) -> HttpResponse:
    room = request.GET.get("room", "lobby")
    return render(request, "telegraphy_demo/chat.html", {"channel": f"chat.{room}"})
