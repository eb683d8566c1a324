import numpy as np
import pytest
from django.db import connection

from recommendations.models import EmbeddingSpace, ProductEmbedding
from recommendations.vectors.index import cosine_distance, ensure_index, index_name
from shop.models import Product

pytestmark = pytest.mark.django_db


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


@pytest.mark.parametrize(("dimensions", "index_type"), [(1280, "vector(1280)"), (2048, "halfvec(2048)")])
def test_each_space_gets_an_hnsw_index_its_distance_queries_use(dimensions: int, index_type: str) -> None:
    space = EmbeddingSpace.objects.create(backbone="test", version=f"test-{dimensions}", dimensions=dimensions)
    rng = np.random.default_rng(0)
    products = list(Product.objects.order_by("pk")[:50])
    vectors = [unit(rng.standard_normal(dimensions)) for _ in products]
    ProductEmbedding.objects.bulk_create(
        ProductEmbedding(product=p, space=space, vector=v, status="ok", image_sha256=p.image_sha256)
        for p, v in zip(products, vectors, strict=True)
    )
    ensure_index(space)

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index_name(space)])
        definition = cursor.fetchone()[0]
    assert "hnsw" in definition and index_type in definition and f"space_id = {space.pk}" in definition

    query = vectors[7] + 0.01 * rng.standard_normal(dimensions)
    nearest = (
        ProductEmbedding.objects.filter(space=space, status="ok")
        .annotate(distance=cosine_distance(space, query))
        .order_by("distance")
    )
    assert nearest[0].product_id == products[7].pk
    with connection.cursor() as cursor:
        # 50 rows are cheaper to sort than to search; forbid sorting to see that the index matches the query.
        cursor.execute("SET LOCAL enable_sort = off")
        plan = nearest[:5].explain()
    assert index_name(space) in plan
