"""The one interface every strategy has: a context in, ranked products (each with a reason) out."""

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import cache

from shop.models import Product

from ..filters import apply_rules


@dataclass(frozen=True)
class Context:
    """Who asks, on which page: what a strategy may use and what the shared rules (``filters``) enforce."""

    visitor_id: uuid.UUID | None = None
    user: Any = None
    product: Product | None = None  # the product page's product
    cart_product_ids: frozenset[int] = frozenset()
    bought_product_ids: frozenset[int] = frozenset()  # bought recently: not recommended again
    gender: str | None = None  # the page's (or the visitor's) segment
    category: str | None = None  # master category, for trending within it
    limit: int = 6

    @property
    def excluded_ids(self) -> frozenset[int]:
        current = {self.product.pk} if self.product is not None else set()
        return self.cart_product_ids | self.bought_product_ids | current


@dataclass(frozen=True)
class Candidate:
    """A product id a strategy ranked, before the shared rules load and filter the products."""

    product_id: int
    score: float
    reason: str


@dataclass(frozen=True)
class Recommendation:
    product: Product
    score: float
    reason: str


class Strategy:
    """Subclass it, implement ``candidates`` and register the class (``PERSONALIZATION_STRATEGIES``).

    ``recommend`` asks for more candidates than the list needs (``overfetch`` times), then applies the shared
    rules (``filters``): nothing in the cart, just bought or on the page; in stock; the page's gender; a cap per
    article type.
    """

    label: ClassVar[str] = ""  # what the log's ``strategy`` field says; the registered name when empty
    # What it recommends from, of "visitor", "product", "cart" (the API checks and lists it); nothing: trending.
    needs: ClassVar[tuple[str, ...]] = ()
    overfetch: ClassVar[int] = 4
    cap_article_types: ClassVar[bool] = True

    def __init__(self, name: str) -> None:
        self.name = name

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        """Up to ``count`` product ids, best first."""
        raise NotImplementedError

    def cache_key(self, context: Context) -> str | None:
        """A key when the candidates are the same for every visitor in this context (then they are cached)."""
        return None

    def strategy_label(self, context: Context) -> str:
        return self.label or self.name

    def recommend(self, context: Context) -> list[Recommendation]:
        count = context.limit * self.overfetch + len(context.excluded_ids)
        key = self.cache_key(context)
        if key is None:
            found = self.candidates(context, count)
        else:
            # Hashed: the context holds what a visitor typed (a segment's name), of any length and any characters.
            key = f"personalization:{self.name}:{count}:{hashlib.sha256(key.encode()).hexdigest()}"
            found = cache.get(key)
            if found is None:
                found = self.candidates(context, count)
                cache.set(key, found, settings.PERSONALIZATION_CACHE_SECONDS)
        kept = apply_rules(found, context, cap_article_types=self.cap_article_types)
        return [Recommendation(product, candidate.score, candidate.reason) for product, candidate in kept]
