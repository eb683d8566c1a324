from django.urls import path

from .views import (
    AlsoBoughtApi,
    AlsoViewedApi,
    BoughtTogetherApi,
    CartCompleteApi,
    ForYouApi,
    RecentlyViewedApi,
    StrategiesApi,
    StrategyRecommendationsApi,
    TrendingApi,
)

urlpatterns = [
    path("recommendations/", StrategiesApi.as_view(), name="recommendations"),
    # Before the generic route, which they would otherwise match.
    path("recommendations/for-you/", ForYouApi.as_view(), name="recommendations-for-you"),
    path("recommendations/trending/", TrendingApi.as_view(), name="recommendations-trending"),
    path("recommendations/recently-viewed/", RecentlyViewedApi.as_view(), name="recommendations-recently-viewed"),
    path("recommendations/<str:name>/", StrategyRecommendationsApi.as_view(), name="recommendations-strategy"),
    path("products/<int:pk>/also-bought/", AlsoBoughtApi.as_view(), name="product-also-bought"),
    path("products/<int:pk>/also-viewed/", AlsoViewedApi.as_view(), name="product-also-viewed"),
    path("products/<int:pk>/bought-together/", BoughtTogetherApi.as_view(), name="product-bought-together"),
    path("cart/complete/", CartCompleteApi.as_view(), name="cart-complete"),
]
