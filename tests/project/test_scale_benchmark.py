"""The parts of the million-product benchmark (``benchmarks/catalogue_scale.py``) whose mistakes would not show in
its figures: the noise recipe's calibration, the binary rows it copies into PostgreSQL, and recall with ties.
The benchmark itself runs for an hour in a database of its own, so no test runs it."""

import numpy as np
import pytest
from django.db import connection

from benchmarks.scale.catalogue import _embedding_rows, copy_sha256
from benchmarks.scale.exact import Truth
from benchmarks.scale.vectors import NoiseRecipe, nearest_distances, normalise


def clustered_vectors(count: int = 3000, dimensions: int = 32) -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((60, dimensions))
    return normalise(centres[rng.integers(0, 60, count)] + 0.4 * rng.standard_normal((count, dimensions))).astype(
        np.float32
    )


def test_copies_lie_as_far_from_their_original_as_real_products_from_their_nearest_neighbour():
    real = clustered_vectors()
    recipe = NoiseRecipe.fit(real, duplicate_distance=0.01, seed=0)

    nearest = np.median(nearest_distances(real[:500], real, beyond=0.01, ranks=1)[:, 0])
    noise = np.random.default_rng(5).standard_normal(real[:500].shape, dtype=np.float32)
    copies = recipe.copies(real[:500], noise)
    assert recipe.target_distance == pytest.approx(nearest, rel=0.1)
    assert np.median(1 - np.sum(copies * real[:500], axis=1)) == pytest.approx(recipe.target_distance, rel=0.1)
    assert np.allclose(np.linalg.norm(copies, axis=1), 1.0, atol=1e-5)


@pytest.mark.django_db
def test_embedding_rows_are_read_by_postgresql_as_written():
    vectors = normalise(np.random.default_rng(2).standard_normal((3, 384))).astype(np.float32)
    product_ids = np.array([100_001, 200_002, 300_003])
    columns = "vector vector, status varchar, error text, image_sha256 varchar, updated_at timestamptz"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE copied ({columns}, product_id bigint, space_id bigint)")
        header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
        with cursor.copy("COPY copied FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(header + _embedding_rows(vectors, product_ids, 7) + b"\xff\xff")
        cursor.execute(
            "SELECT vector::text, status, error, image_sha256, updated_at > now() - interval '1 hour', product_id, "
            "space_id FROM copied ORDER BY product_id"
        )
        rows = cursor.fetchall()
    assert [row[1:] for row in rows] == [("ok", "", copy_sha256(p), True, p, 7) for p in product_ids.tolist()]
    read = np.array([[float(value) for value in row[0].strip("[]").split(",")] for row in rows], dtype=np.float32)
    assert np.allclose(read, vectors, atol=1e-6)


def test_recall_counts_a_tie_with_the_tenth_neighbour_as_found():
    truth = Truth(tenth_distance=0.2, in_scope=100)
    assert truth.recall(np.array([0.1] * 9 + [0.2])) == 1.0
    assert truth.recall(np.array([0.1] * 8 + [0.2, 0.21])) == 0.9
    assert Truth(tenth_distance=0.3, in_scope=4).recall(np.array([0.1, 0.2, 0.3, 0.3])) == 1.0
