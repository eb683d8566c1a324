from django.urls import path

from . import views

app_name = "recommendations"

urlpatterns = [
    path("search/photo/", views.photo_search, name="photo-search"),
]
