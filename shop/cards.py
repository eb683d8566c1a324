"""Product cards, each rendered once for what it shows and then served from the cache.

A card shows its product's card fields (and a recommendation's reason or likeness). What differs with every
showing is left out of the cached HTML as stand-ins: the list's id and the card's place in it, which its link
carries for the interaction log, and the wishlist heart, whose form holds the visitor's state, the page's CSRF token
and its path. The cache key is a digest of everything the card shows and of its templates' source, so a changed
price or stock shows at once, with nothing to invalidate.
"""

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import get_script_prefix
from jinja2 import Environment, Template

# Letters only, so that rendering escapes none of them.
LIST_ID = "cardstandinlistid"
POSITION = "cardstandinposition"
HEART = "cardstandinheart"
BASE_TEMPLATE = "shop/card.html"
NO_IMAGE_TEMPLATE = "shop/no_image.html"
CARD_SECONDS = 24 * 3600
PRODUCT_FIELDS = ("pk", "name", "article_type", "base_colour", "image_width", "image_height", "price", "list_price")
ITEM_FIELDS = ("similarity", "reasons", "reason")


def render_cards(items: Sequence[Any], template_name: str, *, list_id: str, request: HttpRequest | None) -> str:
    """``<li>`` cards of ``items`` (products, or recommendations with a ``product``), with ``?lid=&pos=`` on their
    links when ``list_id`` is given."""
    env: Environment = engines["jinja2"].env
    template = env.get_template(template_name)
    version = _version(env, template)
    keys = [_card_key(version, item, bool(list_id)) for item in items]
    cards = cache.get_many(keys)
    missing = {
        key: template.render(
            item=item, product=_product(item), list_id=LIST_ID if list_id else "", position=POSITION, heart=HEART
        )
        for key, item in zip(keys, items, strict=True)
        if key not in cards
    }
    if missing:
        cache.set_many(missing, CARD_SECONDS)
        cards |= missing
    # The hearts are the cart's (cart/jinja2/cart/wishlist_heart.html), reached by template name as in Django's.
    hearts = env.get_template("cart/wishlist_heart.html").make_module(
        {"request": request, "csrf_token": get_token(request) if request is not None else ""}
    )
    return "".join(
        cards[key]
        .replace(LIST_ID, list_id)
        .replace(POSITION, str(position))
        .replace(HEART, str(hearts.heart(_product(item))))
        for position, (key, item) in enumerate(zip(keys, items, strict=True), start=1)
    )


def _product(item: Any) -> Any:
    return getattr(item, "product", item)


def _card_key(version: str, item: Any, in_list: bool) -> str:
    product = _product(item)
    shown = (
        [getattr(product, name) for name in PRODUCT_FIELDS],
        product.in_stock,
        product.image.name,
        [getattr(item, name, None) for name in ITEM_FIELDS],
        len(getattr(item, "duplicates", None) or ()),
        in_list,
    )
    return f"shop:card:{hashlib.sha256(f'{version}{shown!r}'.encode()).hexdigest()}"


def _version(env: Environment, template: Template) -> str:
    """The card templates' source and where links point: a deploy that changes them changes every key."""
    names = dict.fromkeys((template.name, BASE_TEMPLATE, NO_IMAGE_TEMPLATE))
    # Jinja2 keeps each template loaded (and loads it again when its file changes, with DEBUG on).
    sources = _sources_digest(env, tuple(env.get_template(name) for name in names))
    return f"{sources}{settings.MEDIA_URL}{get_script_prefix()}"


@lru_cache(maxsize=32)
def _sources_digest(env: Environment, templates: tuple[Template, ...]) -> str:
    # Read once per loaded template, not for every list of cards.
    sources = "".join(env.loader.get_source(env, template.name)[0] for template in templates)
    return hashlib.sha256(sources.encode()).hexdigest()[:16]
