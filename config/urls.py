from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("", include("recommendations.urls")),
    path("", include("events.urls")),
    path("", include("accounts.urls")),  # before allauth's: /accounts/profile/ is the account page
    path("accounts/", include("allauth.urls")),
    path("", include("cart.urls")),
    path("", include("orders.urls")),
    path("", include("shop.urls")),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
