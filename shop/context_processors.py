from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    return {"shop_name": settings.SHOP_NAME}
