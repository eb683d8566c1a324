from django.urls import path

from .views import PhotoSearchApi, SimilarProductsApi

urlpatterns = [
    path("products/<int:pk>/similar/", SimilarProductsApi.as_view(), name="product-similar"),
    path("search/photo/", PhotoSearchApi.as_view(), name="photo-search"),
]
