from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import navigation_tree


def navigation(request: HttpRequest) -> dict:
    # Lazy, so that pages without the shop's header (the admin) never read the navigation.
    return {"shop_name": settings.SHOP_NAME, "navigation": SimpleLazyObject(navigation_tree)}
