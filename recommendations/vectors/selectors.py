"""Reads about embeddings: spaces, progress, and the similar items they answer."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, NamedTuple, Self

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from config.replicas import stale_reads_ok
from recommendations.models import EmbeddingSpace, ProductEmbedding
from shop import generations
from shop.models import Product
from shop.selectors import ProductFilters

from .index import QueryVector, stored_vector
from .neighbours import NEIGHBOUR_FIELDS, Scope, nearest_to_any
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


class CachedItem(NamedTuple):
    """What is cached of a similar item: its ranking, not its product, whose price and stock are read afresh."""

    product_id: int
    similarity: float
    score: float
    duplicates: tuple[int, ...]


@stale_reads_ok()
def similar_products(
    product: Product,
    *,
    k: int | None = None,
    options: SimilarOptions | None = None,
    space: EmbeddingSpace | None = None,
    metadata_ranking: bool | None = None,
) -> list[SimilarItem]:
    """The ``k`` products that look most like ``product``, one card per group of duplicate images, best first.

    Empty when no space is serving yet or the product has no embedding in it. Read from a replica when there are.
    The ranking is cached (``similar_cache_key``); the products are read afresh on every call.
    """
    space = space or serving_space()
    if space is None:
        return []
    k = k or settings.SIMILAR_ITEMS_COUNT
    if metadata_ranking is None:
        metadata_ranking = settings.SIMILAR_ITEMS_METADATA_RANKING
    options = options or SimilarOptions()
    key = similar_cache_key(space, product, k=k, options=options, metadata_ranking=metadata_ranking)
    cached = cache.get(key)
    if cached is not None:
        return _with_products(product, cached)
    weights = settings.SIMILAR_ITEMS_METADATA_WEIGHTS if metadata_ranking else {}
    pool = max(k * POOL_FACTOR, settings.SIMILAR_ITEMS_RERANK_POOL if metadata_ranking else 0)
    items = ranked_items(
        space,
        [(stored_vector(space, product.pk), 0.0)],
        k=k,
        pool=pool,
        scope=options.scope_for(product),
        product=product,
        weights=weights,
    )
    ranking = [CachedItem(item.product.pk, item.similarity, item.score, tuple(item.duplicates)) for item in items]
    cache.set(key, ranking, settings.SIMILAR_ITEMS_CACHE_SECONDS)
    return items


def space_generation(space: EmbeddingSpace) -> str:
    """The name of the generation (``shop.generations``) of the vectors stored in ``space``."""
    return f"space-{space.pk}"


def similar_cache_key(
    space: EmbeddingSpace, product: Product, *, k: int, options: SimilarOptions, metadata_ranking: bool
) -> str:
    """The key of a product's similar items, shared by every process that shares the cache. It holds the serving
    space and the generations of what the ranking reads, so that the list is computed again when the space's
    vectors change, when the catalogue changes (the product's gender and category narrow the list, attributes rank
    it) and, for a list of products in stock only, when a product goes out of stock or comes back. The settings
    that shape the ranking are in it too, so that processes set up differently never share a list."""
    shaping = (
        settings.SIMILAR_ITEMS_EF_SEARCH,
        settings.SIMILAR_ITEMS_DUPLICATE_DISTANCE,
        settings.SIMILAR_ITEMS_RERANK_POOL,
        sorted(settings.SIMILAR_ITEMS_METADATA_WEIGHTS.items()) if metadata_ranking else None,
    )
    parts = [
        hashlib.sha256(repr(shaping).encode()).hexdigest()[:12],
        space.pk,
        generations.current(space_generation(space)),
        generations.current(generations.CATALOGUE),
        generations.current(generations.AVAILABILITY) if options.in_stock else "-",
        product.pk,
        k,
        int(options.same_gender),
        int(options.same_category),
        int(options.in_stock),
        int(metadata_ranking),
    ]
    return "recommendations:similar:" + ":".join(map(str, parts))


def _with_products(product: Product, ranking: list[CachedItem]) -> list[SimilarItem]:
    """A cached ranking with its products as they are now, in one query, so that no card shows an old price or
    stock; a product deleted since is left out."""
    rows = Product.objects.only(*NEIGHBOUR_FIELDS).in_bulk([item.product_id for item in ranking])
    return [
        SimilarItem(
            product=rows[item.product_id],
            similarity=item.similarity,
            score=item.score,
            reasons=reasons(product, rows[item.product_id]),
            duplicates=list(item.duplicates),
        )
        for item in ranking
        if item.product_id in rows
    ]


def ranked_items(
    space: EmbeddingSpace,
    queries: list[tuple[QueryVector, float]],
    *,
    k: int,
    pool: int,
    scope: Scope,
    product: Product | None = None,
    weights: Mapping[str, float] | None = None,
    ef_search: int | None = None,
) -> list[SimilarItem]:
    """The ``k`` best of the products nearest to any of ``queries`` (``nearest_to_any``), one card per group of
    duplicate images; with ``product``, as items similar to it (its own picture left out, with reasons)."""
    threshold = settings.SIMILAR_ITEMS_DUPLICATE_DISTANCE
    while True:
        neighbours = nearest_to_any(space, queries, limit=pool, scope=scope, ef_search=ef_search)
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
