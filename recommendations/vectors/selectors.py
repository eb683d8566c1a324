"""Reads about embeddings: spaces, progress, and the similar items they answer."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Self

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from recommendations.models import EmbeddingSpace, ProductEmbedding
from shop.models import Product
from shop.selectors import ProductFilters

from .index import QueryVector, stored_vector
from .neighbours import Scope, nearest_to_any
from .ranking import SimilarItem, collapse_duplicates, metadata_boost, reasons

Selection = Literal["all", "missing", "stale"]

TRUTHY = {"1", "true", "on", "yes"}
# Neighbours fetched per item shown, to leave room for duplicates; doubled while duplicates eat them up.
POOL_FACTOR = 3
MAX_POOL = 1000
ANALYSIS_CACHE_KEY = "recommendations:catalogue-analysis"
ANALYSIS_CACHE_SECONDS = 5
RATE_WINDOW_SECONDS = 60


def serving_space() -> EmbeddingSpace | None:
    """The space similar items are answered from.

    The newest complete space of the configured model; until one exists (the
    model was just switched) the newest complete space of any model.
    """
    complete = EmbeddingSpace.objects.filter(state=EmbeddingSpace.State.COMPLETE).order_by("-completed_at")
    return complete.filter(backbone=settings.EMBEDDING_MODEL).first() or complete.first()


def products_with_image() -> QuerySet[Product]:
    return Product.objects.exclude(image="")


def products_to_embed(space: EmbeddingSpace, selection: Selection) -> QuerySet[Product]:
    """``all``: every product with an image; ``missing``: no vector yet (never embedded,
    or failed); ``stale``: embedded from an image that has since changed."""
    products = products_with_image()
    if selection == "all":
        return products
    done = ProductEmbedding.objects.filter(space=space)
    if selection == "missing":
        return products.exclude(pk__in=done.filter(status=ProductEmbedding.Status.OK).values("product_id"))
    stale = done.filter(~Q(image_sha256=F("product__image_sha256")))
    return products.filter(pk__in=stale.values("product_id"))


@dataclass(frozen=True)
class CatalogueAnalysis:
    """How far the configured model has come through the catalogue's photos: what the storefront tells shoppers
    until similar items and search by photo can answer."""

    done: int
    """Products with an image that have a row in the model's newest space: embedded, or failed for good."""
    total: int

    @property
    def share(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    @property
    def percent(self) -> int:
        """Whole percent done, rounded down: 100 only when every photo is done."""
        return int(self.share * 100)


def catalogue_analysis() -> CatalogueAnalysis:
    """Cached for a few seconds: pages ask on every view while the catalogue is analysed, and it moves slowly."""
    return cache.get_or_set(ANALYSIS_CACHE_KEY, _catalogue_analysis, ANALYSIS_CACHE_SECONDS)


def _catalogue_analysis() -> CatalogueAnalysis:
    total = products_with_image().count()
    space = EmbeddingSpace.objects.filter(backbone=settings.EMBEDDING_MODEL).order_by("-created_at").first()
    if space is None:
        return CatalogueAnalysis(done=0, total=total)
    return CatalogueAnalysis(done=space_progress(space)["done"], total=total)


def space_progress(space: EmbeddingSpace) -> dict[str, int]:
    rows = ProductEmbedding.objects.filter(space=space, product__in=products_with_image())
    counts = dict(rows.values_list("status").annotate(count=Count("pk")).order_by())
    embedded = counts.get(ProductEmbedding.Status.OK, 0)
    failed = counts.get(ProductEmbedding.Status.FAILED, 0)
    return {
        "products": products_with_image().count(),
        "embedded": embedded,
        "failed": failed,
        "done": embedded + failed,
    }


def space_rate(space: EmbeddingSpace, *, seconds: int = RATE_WINDOW_SECONDS) -> float:
    """Products embedded (or failed) per second over the last ``seconds``: how fast the space is being built."""
    since = timezone.now() - timedelta(seconds=seconds)
    return ProductEmbedding.objects.filter(space=space, updated_at__gte=since).count() / seconds


@dataclass(frozen=True)
class SimilarOptions:
    """The shopper's narrowing of similar items (each off by default)."""

    same_gender: bool = False
    same_category: bool = False
    in_stock: bool = False

    @classmethod
    def from_querydict(cls, params: QueryDict) -> Self:
        return cls(
            **{name: params.get(name, "").lower() in TRUTHY for name in ("same_gender", "same_category", "in_stock")}
        )

    def scope_for(self, product: Product) -> Scope:
        selected = {}
        if self.same_gender and product.gender:
            selected["gender"] = (product.gender,)
        if self.same_category and product.sub_category:
            selected["sub_category"] = (product.sub_category,)
        return Scope(
            filters=ProductFilters(selected),
            in_stock=self.in_stock,
            exclude_ids=frozenset({product.pk}),
            exclude_images=frozenset({product.image_sha256}) if product.image_sha256 else frozenset(),
        )


def similar_products(
    product: Product,
    *,
    k: int | None = None,
    options: SimilarOptions | None = None,
    space: EmbeddingSpace | None = None,
    metadata_ranking: bool | None = None,
) -> list[SimilarItem]:
    """The ``k`` products that look most like ``product``, one card per group of duplicate images, best first.

    Empty when no space is serving yet or the product has no embedding in it.
    """
    space = space or serving_space()
    if space is None:
        return []
    k = k or settings.SIMILAR_ITEMS_COUNT
    if metadata_ranking is None:
        metadata_ranking = settings.SIMILAR_ITEMS_METADATA_RANKING
    weights = settings.SIMILAR_ITEMS_METADATA_WEIGHTS if metadata_ranking else {}
    scope = (options or SimilarOptions()).scope_for(product)
    pool = max(k * POOL_FACTOR, settings.SIMILAR_ITEMS_RERANK_POOL if metadata_ranking else 0)
    return ranked_items(
        space, [(stored_vector(space, product.pk), 0.0)], k=k, pool=pool, scope=scope, product=product, weights=weights
    )


def ranked_items(
    space: EmbeddingSpace,
    queries: list[tuple[QueryVector, float]],
    *,
    k: int,
    pool: int,
    scope: Scope,
    product: Product | None = None,
    weights: Mapping[str, float] | None = None,
) -> list[SimilarItem]:
    """The ``k`` best of the products nearest to any of ``queries`` (``nearest_to_any``), one card per group of
    duplicate images; with ``product``, as items similar to it (its own picture left out, with reasons)."""
    threshold = settings.SIMILAR_ITEMS_DUPLICATE_DISTANCE
    while True:
        neighbours = nearest_to_any(space, queries, limit=pool, scope=scope)
        if product is not None:
            # Nearly the same picture as the product itself is no recommendation.
            neighbours = [n for n in neighbours if n.distance > threshold]
        groups = collapse_duplicates(neighbours, threshold=threshold)
        exhausted = len(neighbours) < pool or pool >= MAX_POOL
        if len(groups) >= k or exhausted:
            break
        pool = min(pool * 2, MAX_POOL)
    items = [
        SimilarItem(
            product=neighbour.product,
            similarity=neighbour.similarity,
            score=neighbour.similarity + (metadata_boost(product, neighbour.product, weights) if weights else 0.0),
            reasons=reasons(product, neighbour.product) if product is not None else [],
            duplicates=duplicates,
        )
        for neighbour, duplicates in groups
    ]
    items.sort(key=lambda item: -item.score)
    return items[:k]
