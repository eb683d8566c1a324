"""Exact nearest neighbours by cosine similarity: the ground truth the index and the models are measured with."""

import numpy as np
from tqdm import tqdm

# Queries per matrix product: a (chunk, catalogue) float32 block of similarities stays around 100 MB.
CHUNK = 512


def top_k(
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int,
    *,
    groups: np.ndarray | None = None,
    query_groups: np.ndarray | None = None,
    progress: tqdm | None = None,
) -> np.ndarray:
    """The rows of ``vectors`` most similar to each query, best first: ``(len(queries), k)`` indices.

    The vectors are unit length, so the dot product is the cosine similarity. With ``groups`` (one label per
    row of ``vectors``), the rows labelled like a query (``query_groups``) are never returned for it: the
    query itself and the byte-identical copies of its image.
    """
    k = min(k, len(vectors))
    result = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), CHUNK):
        similarities = queries[start : start + CHUNK] @ vectors.T
        if groups is not None and query_groups is not None:
            similarities[query_groups[start : start + CHUNK, np.newaxis] == groups[np.newaxis, :]] = -np.inf
        best = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(similarities, best, axis=1), axis=1, kind="stable")
        result[start : start + CHUNK] = np.take_along_axis(best, order, axis=1)
        if progress is not None:
            progress.update(len(similarities))
    return result


def top_k_of_any(vectors: np.ndarray, queries: np.ndarray, handicaps: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` rows of ``vectors`` nearest to any of ``queries``, best first, as ``nearest_to_any`` ranks
    them: a row's distance is its smallest over the queries, each query's plus its handicap."""
    k = min(k, len(vectors))
    distances = (1.0 - vectors @ queries.T + handicaps[np.newaxis, :]).min(axis=1)
    best = np.argpartition(distances, k - 1)[:k]
    return best[np.argsort(distances[best], kind="stable")]


def nearest(
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int,
    *,
    groups: np.ndarray | None = None,
    query_groups: np.ndarray | None = None,
) -> np.ndarray:
    """``top_k`` by cosine similarity, for vectors of any length (a tuned model's are not unit vectors)."""
    return top_k(_unit(vectors), _unit(queries), k, groups=groups, query_groups=query_groups)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
