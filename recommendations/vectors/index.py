"""Per-space HNSW indexes and the matching distance expression.

All spaces share one dimensionless ``vector`` column. Each space gets a partial
HNSW index on the column cast to its own size (``halfvec`` beyond pgvector's
2,000-dimension limit for ``vector``); queries must use the very same cast to
use it, so both are built here.
"""

from collections.abc import Sequence

import numpy as np
from django.db import connection, transaction
from django.db.models import BinaryField, F, Func, Subquery, Value
from django.db.models.expressions import BaseExpression
from pgvector import Vector
from pgvector.django import CosineDistance, HalfVectorField, VectorField

from recommendations.models import EmbeddingSpace, ProductEmbedding

MAX_VECTOR_INDEX_DIMENSIONS = 2000

QueryVector = Sequence[float] | BaseExpression
"""A vector, or an expression such as ``stored_vector()`` that the database evaluates once."""


def _type(space: EmbeddingSpace) -> str:
    kind = "vector" if space.dimensions <= MAX_VECTOR_INDEX_DIMENSIONS else "halfvec"
    return f"{kind}({space.dimensions})"


def index_name(space: EmbeddingSpace) -> str:
    return f"recommendations_embedding_hnsw_{space.pk}"


def ensure_index(space: EmbeddingSpace) -> None:
    kind = _type(space).split("(")[0]
    table = ProductEmbedding._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # CREATE INDEX refuses to run while deferred foreign-key checks are pending in the transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(space)} ON {table} "
            f"USING hnsw ((vector::{_type(space)}) {kind}_cosine_ops) "
            f"WHERE space_id = {int(space.pk)} AND status = 'ok'"
        )
        # Fresh statistics, or the planner may misjudge the new rows and skip the index.
        cursor.execute(f"ANALYZE {table}")


def drop_index(space: EmbeddingSpace) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {index_name(space)}")


class _Cast(Func):
    template = "(%(expressions)s)::%(db_type)s"


def cosine_distance(space: EmbeddingSpace, query: QueryVector) -> CosineDistance:
    """``vector <=> query`` in the form the space's index answers."""
    db_type = _type(space)
    field = VectorField if space.dimensions <= MAX_VECTOR_INDEX_DIMENSIONS else HalfVectorField
    output_field = field(dimensions=space.dimensions)
    column = _Cast(F("vector"), db_type=db_type, output_field=output_field)
    value = query if isinstance(query, BaseExpression) else Value(Vector(list(query)).to_text())
    return CosineDistance(column, _Cast(value, db_type=db_type, output_field=output_field))


def stored_vector(space: EmbeddingSpace, product_id: int) -> Subquery:
    """The vector of a product in the space, as a subquery: "nearest to this product" stays one SQL query."""
    rows = ProductEmbedding.objects.filter(space=space, product_id=product_id, status=ProductEmbedding.Status.OK)
    return Subquery(rows.values("vector")[:1], output_field=VectorField())


def vector_bytes() -> Func:
    """The stored vector in pgvector's binary form: much faster to read than its text form."""
    return Func(F("vector"), function="vector_send", output_field=BinaryField())


def from_vector_bytes(data: bytes | memoryview) -> np.ndarray:
    # Two int16 (dimensions, unused), then big-endian float32 values.
    return np.frombuffer(data, dtype=">f4", offset=4).astype(np.float32)
