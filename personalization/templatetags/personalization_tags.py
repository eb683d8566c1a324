"""Personal recommendations on other apps' pages, without those apps importing them.

{% load personalization_tags %}
{% for_you %}  {% trending %}  {% also_bought product %}  {% bought_together product %}  {% complete_order %}
{% recently_viewed product %}
"""

from dataclasses import replace

from django import template

from shop.models import Product

from ..selectors import FOR_YOU_STRATEGIES, RecommendedList, is_returning, recommend, request_context
from ..services import list_shown

FOR_YOU_PLACEMENT = "home: For you"
TRENDING_PLACEMENT = "home: Trending"
ALSO_BOUGHT_PLACEMENT = "product page: also bought"
BOUGHT_TOGETHER_PLACEMENT = "product page: complete the look"
COMPLETE_ORDER_PLACEMENT = "bag: complete your order"
RECENTLY_VIEWED_PLACEMENTS = ("home: recently viewed", "product page: recently viewed")

register = template.Library()


def _shelf(request, shown: RecommendedList, *, title: str, placement: str, slug: str) -> dict[str, object]:
    """The context of a shelf; a list shown is logged (as an impression) with its id, which its links carry."""
    list_id = list_shown(request, shown, placement)
    return {"request": request, "shown": shown, "title": title, "list_id": list_id, "slug": slug}


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def for_you(context: template.Context) -> dict[str, object]:
    """The hybrid's picks from the visitor's history; from their looks alone before the first training or for
    products it has not learnt yet. A newcomer has no history: the Trending shelf is theirs."""
    request = context["request"]
    shown = (
        recommend(FOR_YOU_STRATEGIES, request_context(request)) if is_returning(request) else RecommendedList("", [])
    )
    return _shelf(request, shown, title="For you", placement=FOR_YOU_PLACEMENT, slug="for-you")


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
def bought_together(context: template.Context, product: Product) -> dict[str, object]:
    """Products of other article types bought in the same orders (a shirt brings trousers and shoes)."""
    request = context["request"]
    shown = recommend(["bought_together"], request_context(request, product=product))
    return _shelf(request, shown, title="Complete the look", placement=BOUGHT_TOGETHER_PLACEMENT, slug="complete-look")


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def complete_order(context: template.Context) -> dict[str, object]:
    """On the bag page: what is bought together with what is in the bag."""
    request = context["request"]
    shown = recommend(["complete_order"], request_context(request))
    return _shelf(
        request, shown, title="Complete your order", placement=COMPLETE_ORDER_PLACEMENT, slug="complete-order"
    )


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def recently_viewed(context: template.Context, product: Product | None = None) -> dict[str, object]:
    """The visitor's own recent views (less the page's product), of any gender."""
    request = context["request"]
    wanted = replace(request_context(request, product=product), gender=None)
    shown = recommend(["recently_viewed"], wanted) if is_returning(request) else RecommendedList("", [])
    placement = RECENTLY_VIEWED_PLACEMENTS[product is not None]
    return _shelf(request, shown, title="Recently viewed", placement=placement, slug="recently-viewed")
