"""The products nearest to a query in an embedding space, by one SQL query on the space's HNSW index."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from pgvector import Vector

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
    rows = _with_cards(_in_scope(space, scope or Scope()))
    return rows.annotate(distance=cosine_distance(space, query)).order_by("distance")[:limit]


def _in_scope(space: EmbeddingSpace, scope: Scope) -> QuerySet[ProductEmbedding]:
    """The space's usable embeddings of the products in ``scope``."""
    return ProductEmbedding.objects.filter(space=space, status=ProductEmbedding.Status.OK).filter(scope.as_q())


def _with_cards(rows: QuerySet[ProductEmbedding]) -> QuerySet[ProductEmbedding]:
    """Embeddings with their products' card fields and their vectors' bytes."""
    return (
        rows.select_related("product")
        .only("product_id", *(f"product__{name}" for name in NEIGHBOUR_FIELDS))
        .annotate(vector_data=vector_bytes())
    )


@contextmanager
def index_scan_settings(
    limit: int, using: str = DEFAULT_DB_ALIAS, ef_search: int | None = None
) -> Iterator[CursorWrapper]:
    """A transaction on database ``using`` whose HNSW scans keep going until ``limit`` rows pass the filters;
    ``ef_search`` defaults to ``SIMILAR_ITEMS_EF_SEARCH``."""
    ef_search = min(max(ef_search or settings.SIMILAR_ITEMS_EF_SEARCH, limit), MAX_EF_SEARCH)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # SET LOCAL lasts until the end of this transaction, which must also run the query.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        yield cursor


def nearest(
    space: EmbeddingSpace,
    query: QueryVector,
    *,
    limit: int,
    scope: Scope | None = None,
    ef_search: int | None = None,
) -> list[Neighbour]:
    """Up to ``limit`` products in ``scope``, nearest first.

    The HNSW scan is iterative, so that filters applied after it still find ``limit`` products when
    that many exist; when the scan stops early (``hnsw.max_scan_tuples``) the search is repeated exactly.
    """
    scope = scope or Scope()
    # One database for the settings and the query: a replica inside stale_reads_ok(), else the primary.
    using = router.db_for_read(ProductEmbedding)
    rows = neighbours_query(space, query, limit=limit, scope=scope).using(using)
    with index_scan_settings(limit, using, ef_search) as cursor:
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
    space: EmbeddingSpace,
    queries: list[tuple[QueryVector, float]],
    *,
    limit: int,
    scope: Scope | None = None,
    ef_search: int | None = None,
) -> list[Neighbour]:
    """``nearest`` for several queries at once, each ``(vector, handicap)``: a product's distance is its
    smallest over the queries, each query's plus its handicap (``ef_search``: ``index_scan_settings``).

    One SQL statement searches for all the vectors (a lateral HNSW scan per vector), and one more reads the
    winners' cards, however many queries there are."""
    if len(queries) == 1 and not queries[0][1]:
        return nearest(space, queries[0][0], limit=limit, scope=scope, ef_search=ef_search)
    scope = scope or Scope()
    using = router.db_for_read(ProductEmbedding)
    sql, params = _nearest_to_each_sql(space, [vector for vector, _ in queries], limit=limit, scope=scope, using=using)
    with index_scan_settings(limit, using, ef_search) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        found = Counter(position for position, _, _ in rows)
        if scope.restricted and any(found[position] < limit for position in range(len(queries))):
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    best: dict[int, float] = {}
    for position, product_id, distance in rows:
        distance += queries[position][1]
        if distance < best.get(product_id, np.inf):
            best[product_id] = distance
    ranked = sorted(best, key=lambda product_id: (best[product_id], product_id))[:limit]
    rows = _in_scope(space, Scope()).filter(product_id__in=ranked)
    cards = {row.product_id: row for row in _with_cards(rows).using(using)}
    return [
        Neighbour(cards[pk].product, best[pk], from_vector_bytes(cards[pk].vector_data)) for pk in ranked if pk in cards
    ]


def _nearest_to_each_sql(
    space: EmbeddingSpace, vectors: list[QueryVector], *, limit: int, scope: Scope, using: str
) -> tuple[str, list]:
    """SQL and parameters for rows (query's position, product id, distance): each query's ``limit`` nearest."""
    each = (
        _in_scope(space, scope)
        .annotate(distance=cosine_distance(space, RawSQL('"query"."vector"', ())))
        .order_by("distance")
        .values_list("product_id", "distance")[:limit]
    )
    inner, inner_params = each.query.get_compiler(using).as_sql()
    texts = [Vector(list(vector)).to_text() for vector in vectors]
    sql = (
        'SELECT "query"."position" - 1, "near"."product_id", "near"."distance" '
        'FROM unnest(%s::text[]) WITH ORDINALITY AS "query"("vector", "position") '
        f'CROSS JOIN LATERAL ({inner}) AS "near"("product_id", "distance") '
        'WHERE "near"."distance" IS NOT NULL'
    )
    return sql, [texts, *inner_params]
