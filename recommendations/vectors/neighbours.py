"""The products nearest to a query in an embedding space, by one SQL query on the space's HNSW index."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, QuerySet

from recommendations.models import EmbeddingSpace, ProductEmbedding
from shop.models import Product
from shop.selectors import CARD_FIELDS, FACET_NAMES, ProductFilters

from .index import QueryVector, cosine_distance, from_vector_bytes, vector_bytes

# What cards, reasons and ranking read from each neighbour.
NEIGHBOUR_FIELDS = (*CARD_FIELDS, *FACET_NAMES, "image_sha256")

# pgvector's limit for hnsw.ef_search.
MAX_EF_SEARCH = 1000


@dataclass(frozen=True)
class Scope:
    """Which products a search may return."""

    filters: ProductFilters = field(default_factory=ProductFilters)
    # Products whose stock is not tracked (NULL) count as in stock.
    in_stock: bool = False
    exclude_ids: frozenset[int] = frozenset()
    # sha256 of images not to return, e.g. the query product's own image under other ids.
    exclude_images: frozenset[str] = frozenset()

    def as_q(self) -> Q:
        q = self.filters.as_q(prefix="product__")
        if self.in_stock:
            q &= Q(product__in_stock=True)
        if self.exclude_ids:
            q &= ~Q(product_id__in=self.exclude_ids)
        if self.exclude_images:
            q &= ~Q(product__image_sha256__in=self.exclude_images)
        return q

    @property
    def restricted(self) -> bool:
        return bool(self.filters or self.in_stock)


@dataclass(frozen=True)
class Neighbour:
    product: Product
    distance: float
    """Cosine distance to the query: 0 for the same direction, up to 2."""
    vector: np.ndarray

    @property
    def similarity(self) -> float:
        return 1.0 - self.distance


def neighbours_query(
    space: EmbeddingSpace, query: QueryVector, *, limit: int, scope: Scope | None = None
) -> QuerySet[ProductEmbedding]:
    """The SQL of ``nearest``: embeddings in scope by distance, each with its product and its vector's bytes."""
    return (
        ProductEmbedding.objects.filter(space=space, status=ProductEmbedding.Status.OK)
        .filter((scope or Scope()).as_q())
        .select_related("product")
        .only("product_id", *(f"product__{name}" for name in NEIGHBOUR_FIELDS))
        .annotate(distance=cosine_distance(space, query), vector_data=vector_bytes())
        .order_by("distance")[:limit]
    )


@contextmanager
def index_scan_settings(limit: int, using: str = DEFAULT_DB_ALIAS) -> Iterator[CursorWrapper]:
    """A transaction on database ``using`` whose HNSW scans keep going until ``limit`` rows pass the filters."""
    ef_search = min(max(settings.SIMILAR_ITEMS_EF_SEARCH, limit), MAX_EF_SEARCH)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # SET LOCAL lasts until the end of this transaction, which must also run the query.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        yield cursor


def nearest(space: EmbeddingSpace, query: QueryVector, *, limit: int, scope: Scope | None = None) -> list[Neighbour]:
    """Up to ``limit`` products in ``scope``, nearest first.

    The HNSW scan is iterative, so that filters applied after it still find ``limit`` products when
    that many exist; when the scan stops early (``hnsw.max_scan_tuples``) the search is repeated exactly.
    """
    scope = scope or Scope()
    # One database for the settings and the query: a replica inside stale_reads_ok(), else the primary.
    using = router.db_for_read(ProductEmbedding)
    rows = neighbours_query(space, query, limit=limit, scope=scope).using(using)
    with index_scan_settings(limit, using) as cursor:
        found = list(rows)
        if len(found) < limit and scope.restricted:
            cursor.execute("SET LOCAL enable_indexscan = off")
            found = list(rows.all())
    # A query vector that does not exist (a product without an embedding) makes every distance NULL.
    found = [row for row in found if row.distance is not None]
    # relaxed_order may return the scanned rows slightly out of order.
    found.sort(key=lambda row: (row.distance, row.product_id))
    return [Neighbour(row.product, float(row.distance), from_vector_bytes(row.vector_data)) for row in found]


def nearest_to_any(
    space: EmbeddingSpace, queries: list[tuple[QueryVector, float]], *, limit: int, scope: Scope | None = None
) -> list[Neighbour]:
    """``nearest`` for several queries at once, each ``(vector, handicap)``: a product's distance is its
    smallest over the queries, each query's plus its handicap."""
    if len(queries) == 1 and not queries[0][1]:
        return nearest(space, queries[0][0], limit=limit, scope=scope)
    best: dict[int, Neighbour] = {}
    for query, handicap in queries:
        for neighbour in nearest(space, query, limit=limit, scope=scope):
            distance = neighbour.distance + handicap
            kept = best.get(neighbour.product.pk)
            if kept is None or distance < kept.distance:
                best[neighbour.product.pk] = Neighbour(neighbour.product, distance, neighbour.vector)
    return sorted(best.values(), key=lambda neighbour: (neighbour.distance, neighbour.product.pk))[:limit]
