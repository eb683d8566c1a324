"""Writes: a list shown to a visitor, logged (as an impression) under a fresh id that its links then carry, and
counted as the visitor's exposure when it showed their A/B test variant."""

import uuid

from django.http import HttpRequest

from experiments.selectors import Assignment
from experiments.services import record_exposure
from shop.models import Product
from shop.signals import products_listed

from .selectors import RecommendedList


def list_shown(
    request: HttpRequest, shown: RecommendedList, placement: str, assignment: Assignment | None = None
) -> str:
    """A new list id; the list, when it has products, is logged with it (through the catalogue's signal, which the
    interaction log receives), and exposes the visitor to their variant when it is an experiment's."""
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
        if assignment is not None:
            record_exposure(request, assignment)
    return list_id
