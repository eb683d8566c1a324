from django.urls import path

from . import views

app_name = "cart"

urlpatterns = [
    path("bag/", views.bag, name="detail"),
    path("bag/add/", views.add, name="add"),
    path("bag/<int:sku_id>/", views.update, name="update"),
    path("bag/<int:sku_id>/remove/", views.remove, name="remove"),
    path("wishlist/", views.wishlist, name="wishlist"),
    path("wishlist/<int:product_id>/", views.wishlist_toggle, name="wishlist-toggle"),
]
