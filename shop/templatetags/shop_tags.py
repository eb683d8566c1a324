from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import template
from django.utils.safestring import SafeString, mark_safe

from shop.cards import BASE_TEMPLATE, render_cards
from shop.catalog_json import sanitise_description
from shop.links import plain_url

register = template.Library()


@register.simple_tag(name="plain_url")
def plain_url_tag(viewname: str) -> str:
    """``{% url viewname %}`` for a view without arguments, reversed once per process (shop/links.py): for the
    links that every page shows, in its header and footer."""
    return plain_url(viewname)


@register.simple_tag
def listing_url(**filters: str | None) -> str:
    """The product listing narrowed to the given facet values, e.g. ``{% listing_url gender="Men" %}``."""
    return f"{plain_url('shop:product-list')}?{urlencode({k: v for k, v in filters.items() if v})}"


@register.simple_tag(takes_context=True)
def toggle_filter(context: template.Context, name: str, value: str) -> str:
    """The current query string with ``value`` of facet ``name`` switched on or off, back on the first page."""
    params = [(key, item) for key, items in context.request.GET.lists() if key != "page" for item in items]
    kept = [(key, item) for key, item in params if (key, item) != (name, value)]
    if len(kept) == len(params):
        kept.append((name, value))
    return f"?{urlencode(kept)}"


@register.simple_tag(takes_context=True)
def product_cards(
    context: template.Context, items: Iterable[Any], template_name: str = BASE_TEMPLATE, list_id: str = ""
) -> SafeString:
    """``<li>`` product cards of ``items`` (products, or recommendations with a ``product``), e.g.
    ``{% product_cards page.object_list list_id=list_id %}``; another app's cards name their Jinja2 template, which
    extends ``shop/card.html``. Rendered once per what a card shows, then from the cache (shop/cards.py)."""
    return mark_safe(render_cards(list(items), template_name, list_id=list_id, request=context.get("request")))


@register.filter
def percent(fraction: float) -> int:
    """``0.874`` -> ``87``."""
    return round(fraction * 100)


@register.filter
def rupees(amount: Decimal | int | None) -> str:
    """``1195`` -> ``₹1,195``, ``119500`` -> ``₹1,19,500``: Indian digit grouping, paise only when there are some."""
    if amount is None:
        return ""
    amount = Decimal(amount)
    whole, paise = divmod(abs(amount), 1)
    digits = str(int(whole))
    head, tail = digits[:-3], digits[-3:]
    groups = [head[max(0, end - 2) : end] for end in range(len(head), 0, -2)][::-1]
    text = ",".join([*groups, tail]) if head else tail
    if paise:
        text += f"{paise:.2f}"[1:]
    return f"{'-' if amount < 0 else ''}₹{text}"


@register.filter
def description_html(description: str) -> SafeString:
    """A product description as HTML: sanitised again as it is shown, whatever wrote it to the database."""
    # nh3 has just removed everything but text markup: no script, handler, style or link is left to trust.
    return mark_safe(sanitise_description(description))
