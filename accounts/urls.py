from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/addresses/new/", views.address_create, name="address-create"),
    path("accounts/addresses/<int:pk>/", views.address_edit, name="address-edit"),
    path("accounts/addresses/<int:pk>/delete/", views.address_delete, name="address-delete"),
]
