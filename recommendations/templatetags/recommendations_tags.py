"""What the recommendations add to other apps' pages, without those apps importing them.

{% load recommendations_tags %}
{% similar_items product %}
"""

from django import template

from recommendations.vectors.selectors import SimilarOptions, catalogue_analysis, serving_space, similar_products
from shop.models import Product

register = template.Library()


@register.inclusion_tag("recommendations/_similar_items.html", takes_context=True)
def similar_items(context: template.Context, product: Product) -> dict[str, object]:
    """The product's similar items with the shopper's options (``same_gender``, ``same_category``, ``in_stock``
    in the query string); while the catalogue is analysed, how far that has come."""
    request = context["request"]
    options = SimilarOptions.from_querydict(request.GET)
    space = serving_space() if product.image else None
    return {
        "request": request,
        "product": product,
        "options": options,
        "similar": similar_products(product, options=options, space=space) if space else [],
        "analysis": catalogue_analysis() if product.image and space is None else None,
    }
