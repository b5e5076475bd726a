from django.contrib import admin
from django.urls import include, path
from myapp import views

urlpatterns = [
    path("", views.index),
    path("admin/", admin.site.urls),
    # The browser fetches a fresh token here when it reconnects.
    path("telegraphy/", include("telegraphy.contrib.django_telegraphy.urls")),
]
