"""What the recommendations add to other apps' pages, without those apps importing them.

{% load recommendations_tags %}
{% similar_items product %}
"""

import uuid

from django import template

from experiments.selectors import assign
from experiments.services import record_exposure
from recommendations.signals import recommendations_shown
from recommendations.vectors.selectors import SimilarOptions, catalogue_analysis, serving_space, similar_products
from shop.models import Product

SIMILAR_ITEMS_PLACEMENT = "product page: similar items"
VISUAL = "visual"  # the one strategy, as A/B tests name it; its variants set its parameters

register = template.Library()


@register.inclusion_tag("recommendations/_similar_items.html", takes_context=True)
def similar_items(context: template.Context, product: Product) -> dict[str, object]:
    """The product's similar items with the shopper's options (``same_gender``, ``same_category``, ``in_stock``
    in the query string), or their A/B test variant's; while the catalogue is analysed, how far that has come."""
    request = context["request"]
    options = SimilarOptions.from_querydict(request.GET)
    space = serving_space() if product.image else None
    assignment = assign(request, SIMILAR_ITEMS_PLACEMENT) if space else None
    variant = assignment.variant.parameters if assignment else {}
    similar = (
        similar_products(
            product,
            options=options,
            space=space,
            k=variant.get("limit"),
            metadata_ranking=variant.get("metadata_ranking"),
        )
        if space
        else []
    )
    list_id = uuid.uuid4().hex
    if similar and assignment:
        record_exposure(request, assignment)
    if similar:
        recommendations_shown.send(
            sender=Product,
            request=request,
            list_id=list_id,
            placement=SIMILAR_ITEMS_PLACEMENT,
            strategy=f"visual: {space.backbone}",
            product_ids=[item.product.pk for item in similar],
        )
    return {
        "request": request,
        "product": product,
        "options": options,
        "similar": similar,
        "list_id": list_id,
        "analysis": catalogue_analysis() if product.image and space is None else None,
    }
