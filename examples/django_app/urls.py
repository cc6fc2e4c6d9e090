from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index),
    path("api", views.api),
    path("whoami", views.whoami),
    path("login", views.login),
    path("logout", views.logout),
    path("prefs", views.prefs),
    path("async", views.async_counter),
]
