"""Writes: a list shown to a visitor, logged (as an impression) under a fresh id that its links then carry."""

import uuid

from django.http import HttpRequest

from shop.models import Product
from shop.signals import products_listed

from .selectors import RecommendedList


def list_shown(request: HttpRequest, shown: RecommendedList, placement: str) -> str:
    """A new list id; the list, when it has products, is logged with it (through the catalogue's signal, which the
    interaction log receives)."""
    list_id = uuid.uuid4().hex
    if shown:
        products_listed.send(
            sender=Product,
            request=request,
            list_id=list_id,
            placement=placement,
            strategy=shown.strategy,
            product_ids=shown.product_ids,
        )
    return list_id
