"""Delivery methods: fixed, with their prices in the ``ORDER_DELIVERY_METHODS`` setting."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings


@dataclass(frozen=True)
class DeliveryMethod:
    code: str
    label: str
    description: str
    price: Decimal


def delivery_methods() -> dict[str, DeliveryMethod]:
    return {
        code: DeliveryMethod(code, method["label"], method.get("description", ""), Decimal(method["price"]))
        for code, method in settings.ORDER_DELIVERY_METHODS.items()
    }


def delivery_method(code: str) -> DeliveryMethod | None:
    return delivery_methods().get(code)
