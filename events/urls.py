from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("your-data/", views.your_data, name="your-data"),
]
