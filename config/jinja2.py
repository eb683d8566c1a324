"""The Jinja2 environment of the templates that render hundreds of times a page, or on every product page: the
product cards, the wishlist hearts and the size picker.

Django's template language renders a card in about a third of a millisecond, so a listing of 48 spent more on its
cards than on everything else; Jinja2 renders them several times faster (docs/speed.md). Pages stay Django
templates, and reach these through template tags (``{% product_cards %}``, ``{% wishlist_heart %}``,
``{% add_to_cart %}``).
"""

from typing import Any

from jinja2 import Environment

from cart.sessions import wishlisted_ids
from shop.links import pk_url, plain_url
from shop.templatetags.shop_tags import percent, rupees


def environment(**options: Any) -> Environment:
    env = Environment(**options)
    env.globals.update(pk_url=pk_url, plain_url=plain_url, wishlisted_ids=wishlisted_ids)
    env.filters.update(rupees=rupees, percent=percent)
    return env
