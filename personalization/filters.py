"""The rules every list obeys, whatever chose it: nothing the visitor has in the cart or just bought (nor the page's
own product), only what is in stock, only the page's gender (and unisex), one product per photo (the catalogue has
the same picture under several ids), and a cap per article type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from shop.models import Product
from shop.selectors import CARD_FIELDS

from .catalogue import UNISEX

if TYPE_CHECKING:
    from .strategies.base import Candidate, Context


def gender_q(gender: str | None, prefix: str = "") -> Q:
    """The products a page of ``gender`` may show: that gender's and unisex ones (all, without a gender)."""
    if not gender or gender == UNISEX:
        return Q()
    return Q(**{f"{prefix}gender__in": [gender, UNISEX]})


def product_q(context: Context, prefix: str = "") -> Q:
    """The rules that a query can apply, as a ``Q`` on products (``prefix``: the path to them, e.g. "product__")."""
    return Q(**{f"{prefix}in_stock": True}) & gender_q(context.gender, prefix)


def cap_per_article_type(products: Sequence[Product], cap: int) -> list[Product]:
    """The products in order, skipping those beyond ``cap`` of one article type."""
    seen: Counter[str | None] = Counter()
    kept = []
    for product in products:
        seen[product.article_type] += 1
        if product.article_type is None or seen[product.article_type] <= cap:
            kept.append(product)
    return kept


def collapse_identical_pictures(products: Sequence[Product]) -> list[Product]:
    """The products in order, skipping those whose photo (the same file under another id) was already kept."""
    seen: set[str] = set()
    kept = []
    for product in products:
        if product.image_sha256 and product.image_sha256 in seen:
            continue
        seen.add(product.image_sha256)
        kept.append(product)
    return kept


def apply_rules(
    candidates: Sequence[Candidate], context: Context, *, cap_article_types: bool = True
) -> list[tuple[Product, Candidate]]:
    """The candidates that pass every rule, as (product card, candidate), in order, at most ``context.limit``."""
    excluded = context.excluded_ids
    wanted = [candidate for candidate in candidates if candidate.product_id not in excluded]
    if not wanted:
        return []
    found = Product.objects.filter(product_q(context), pk__in=[candidate.product_id for candidate in wanted])
    products = {product.pk: product for product in found.only(*CARD_FIELDS, "gender", "image_sha256")}
    ordered = collapse_identical_pictures(
        [products[candidate.product_id] for candidate in wanted if candidate.product_id in products]
    )
    if cap_article_types:
        ordered = cap_per_article_type(ordered, settings.PERSONALIZATION_MAX_PER_ARTICLE_TYPE)
    by_id = {candidate.product_id: candidate for candidate in wanted}
    return [(product, by_id[product.pk]) for product in ordered[: context.limit]]
