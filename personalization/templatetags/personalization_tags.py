"""Personal recommendations on other apps' pages, without those apps importing them.

{% load personalization_tags %}
{% trending %}  {% also_bought product %}  {% recently_viewed product %}
"""

import uuid
from dataclasses import replace

from django import template

from shop.models import Product
from shop.signals import products_listed

from ..selectors import RecommendedList, is_returning, recommend, request_context

TRENDING_PLACEMENT = "home: Trending"
ALSO_BOUGHT_PLACEMENT = "product page: also bought"
RECENTLY_VIEWED_PLACEMENTS = ("home: recently viewed", "product page: recently viewed")

register = template.Library()


def _shelf(request, shown: RecommendedList, *, title: str, placement: str, slug: str) -> dict[str, object]:
    """The context of a shelf; a list shown is logged (as an impression) with its id, which its links carry."""
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
    return {"request": request, "shown": shown, "title": title, "list_id": list_id, "slug": slug}


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def trending(context: template.Context, gender: str | None = None) -> dict[str, object]:
    """What is trending in the page's gender, else the visitor's segment; overall for a newcomer (or when the
    segment has nothing yet)."""
    request = context["request"]
    wanted = request_context(request, gender=gender)
    shown = recommend(["trending"], wanted)
    if not shown and wanted.gender:
        shown = recommend(["trending"], replace(wanted, gender=None))
    return _shelf(request, shown, title="Trending", placement=TRENDING_PLACEMENT, slug="trending")


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def also_bought(context: template.Context, product: Product) -> dict[str, object]:
    """Shoppers who bought this also bought; while nobody has, who viewed it also viewed."""
    request = context["request"]
    shown = recommend(["also_bought", "also_viewed"], request_context(request, product=product))
    title = "Shoppers also viewed" if shown.strategy == "also viewed" else "Shoppers also bought"
    return _shelf(request, shown, title=title, placement=ALSO_BOUGHT_PLACEMENT, slug="also-bought")


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def recently_viewed(context: template.Context, product: Product | None = None) -> dict[str, object]:
    """The visitor's own recent views (less the page's product), of any gender."""
    request = context["request"]
    wanted = replace(request_context(request, product=product), gender=None)
    shown = recommend(["recently_viewed"], wanted) if is_returning(request) else RecommendedList("", [])
    placement = RECENTLY_VIEWED_PLACEMENTS[product is not None]
    return _shelf(request, shown, title="Recently viewed", placement=placement, slug="recently-viewed")
