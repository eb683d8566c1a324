"""The Jinja2 environment of the templates that render hundreds of times a page: the product cards.

Django's template language renders a card in about a third of a millisecond, so a listing of 48 spent more on its
cards than on everything else; Jinja2 renders them several times faster (docs/speed.md). Pages stay Django
templates, and reach the cards through ``{% product_cards %}`` (shop/templatetags/shop_tags.py).
"""

from typing import Any

from jinja2 import Environment

from cart.sessions import wishlisted_ids
from shop.links import pk_url
from shop.templatetags.shop_tags import percent, rupees


def environment(**options: Any) -> Environment:
    env = Environment(**options)
    env.globals.update(pk_url=pk_url, wishlisted_ids=wishlisted_ids)
    env.filters.update(rupees=rupees, percent=percent)
    return env
