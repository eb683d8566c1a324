from django.urls import path

from .views import CartApi, CartLineApi, CartLinesApi, WishlistApi, WishlistItemApi

urlpatterns = [
    path("cart/", CartApi.as_view(), name="cart"),
    path("cart/lines/", CartLinesApi.as_view(), name="cart-lines"),
    path("cart/lines/<int:sku_id>/", CartLineApi.as_view(), name="cart-line"),
    path("wishlist/", WishlistApi.as_view(), name="wishlist"),
    path("wishlist/<int:product_id>/", WishlistItemApi.as_view(), name="wishlist-item"),
]
