"""The REST API, under /api/: the catalogue, similar items, search by photo, the shopper's bag, wishlist, checkout
and orders, personal recommendations, A/B test results, and their documentation."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

app_name = "api"

urlpatterns = [
    path("", include("shop.api.urls")),
    path("", include("recommendations.api.urls")),
    path("", include("events.api.urls")),
    path("", include("cart.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("personalization.api.urls")),
    path("", include("experiments.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
