from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def listing_url(**filters: str | None) -> str:
    """The product listing narrowed to the given facet values, e.g. ``{% listing_url gender="Men" %}``."""
    return f"{reverse('shop:product-list')}?{urlencode({k: v for k, v in filters.items() if v})}"


@register.simple_tag(takes_context=True)
def toggle_filter(context: template.Context, name: str, value: str) -> str:
    """The current query string with ``value`` of facet ``name`` switched on or off, back on the first page."""
    params = [(key, item) for key, items in context.request.GET.lists() if key != "page" for item in items]
    kept = [(key, item) for key, item in params if (key, item) != (name, value)]
    if len(kept) == len(params):
        kept.append((name, value))
    return f"?{urlencode(kept)}"
