from django.urls import path

from .views import EventsApi

urlpatterns = [
    path("events/", EventsApi.as_view(), name="events"),
]
