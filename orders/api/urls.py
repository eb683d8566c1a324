from django.urls import path

from .views import CheckoutApi, OrderDetailApi, OrderListApi

urlpatterns = [
    path("checkout/", CheckoutApi.as_view(), name="checkout"),
    path("orders/", OrderListApi.as_view(), name="order-list"),
    path("orders/<str:number>/", OrderDetailApi.as_view(), name="order-detail"),
]
