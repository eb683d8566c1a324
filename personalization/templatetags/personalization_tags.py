"""Personal recommendations on other apps' pages, without those apps importing them.

{% load personalization_tags %}
{% for_you %}  {% trending %}  {% also_bought product %}  {% bought_together product %}  {% complete_order %}
{% recently_viewed product %}
"""

from dataclasses import replace

from django import template

from experiments.selectors import Assignment
from shop.models import Product

from .. import placements
from ..selectors import (
    FOR_YOU_STRATEGIES,
    RecommendedList,
    experiment_choice,
    is_returning,
    recommend,
    request_context,
)
from ..services import list_shown
from ..strategies.base import Context

register = template.Library()


def _chosen(request, placement: str, names: list[str], wanted: Context) -> tuple[RecommendedList, Assignment | None]:
    """The placement's list: from the visitor's variant when an A/B test runs on it."""
    names, wanted, assignment = experiment_choice(request, placement, names, wanted)
    return recommend(names, wanted), assignment


def _shelf(
    request,
    shown: RecommendedList,
    *,
    title: str,
    placement: str,
    slug: str,
    assignment: Assignment | None = None,
) -> dict[str, object]:
    """The context of a shelf; a list shown is logged (as an impression) with its id, which its links carry."""
    list_id = list_shown(request, shown, placement, assignment)
    return {"request": request, "shown": shown, "title": title, "list_id": list_id, "slug": slug}


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def for_you(context: template.Context) -> dict[str, object]:
    """The hybrid's picks from the visitor's history; from their looks alone before the first training or for
    products it has not learnt yet. A newcomer has no history: the Trending shelf is theirs."""
    request = context["request"]
    if not is_returning(request):
        return _shelf(request, RecommendedList("", []), title="For you", placement=placements.FOR_YOU, slug="for-you")
    shown, assignment = _chosen(request, placements.FOR_YOU, FOR_YOU_STRATEGIES, request_context(request))
    return _shelf(request, shown, title="For you", placement=placements.FOR_YOU, slug="for-you", assignment=assignment)


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def trending(context: template.Context, gender: str | None = None) -> dict[str, object]:
    """What is trending in the page's gender, else the visitor's segment; overall for a newcomer (or when the
    segment has nothing yet)."""
    request = context["request"]
    wanted = request_context(request, gender=gender)
    shown, assignment = _chosen(request, placements.TRENDING, ["trending"], wanted)
    if not shown and wanted.gender:
        shown, assignment = _chosen(request, placements.TRENDING, ["trending"], replace(wanted, gender=None))
    return _shelf(
        request, shown, title="Trending", placement=placements.TRENDING, slug="trending", assignment=assignment
    )


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def also_bought(context: template.Context, product: Product) -> dict[str, object]:
    """Shoppers who bought this also bought; while nobody has, who viewed it also viewed."""
    request = context["request"]
    wanted = request_context(request, product=product)
    shown, assignment = _chosen(request, placements.ALSO_BOUGHT, ["also_bought", "also_viewed"], wanted)
    title = "Shoppers also viewed" if shown.strategy == "also viewed" else "Shoppers also bought"
    return _shelf(
        request, shown, title=title, placement=placements.ALSO_BOUGHT, slug="also-bought", assignment=assignment
    )


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def bought_together(context: template.Context, product: Product) -> dict[str, object]:
    """Products of other article types bought in the same orders (a shirt brings trousers and shoes)."""
    request = context["request"]
    wanted = request_context(request, product=product)
    shown, assignment = _chosen(request, placements.BOUGHT_TOGETHER, ["bought_together"], wanted)
    return _shelf(
        request,
        shown,
        title="Complete the look",
        placement=placements.BOUGHT_TOGETHER,
        slug="complete-look",
        assignment=assignment,
    )


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def complete_order(context: template.Context) -> dict[str, object]:
    """On the bag page: what is bought together with what is in the bag."""
    request = context["request"]
    shown, assignment = _chosen(request, placements.COMPLETE_ORDER, ["complete_order"], request_context(request))
    return _shelf(
        request,
        shown,
        title="Complete your order",
        placement=placements.COMPLETE_ORDER,
        slug="complete-order",
        assignment=assignment,
    )


@register.inclusion_tag("personalization/_shelf.html", takes_context=True)
def recently_viewed(context: template.Context, product: Product | None = None) -> dict[str, object]:
    """The visitor's own recent views (less the page's product), of any gender."""
    request = context["request"]
    wanted = replace(request_context(request, product=product), gender=None)
    shown = recommend(["recently_viewed"], wanted) if is_returning(request) else RecommendedList("", [])
    placement = placements.RECENTLY_VIEWED[product is not None]
    return _shelf(request, shown, title="Recently viewed", placement=placement, slug="recently-viewed")
