"""Retrieval figures: do an item's neighbours share its labels, and does a photo find its product."""

import numpy as np

from recommendations.evaluation.exact_search import top_k
from recommendations.training.catalogue import MISSING


def neighbours(
    queries: np.ndarray,
    gallery: np.ndarray,
    k: int,
    *,
    query_groups: np.ndarray | None = None,
    gallery_groups: np.ndarray | None = None,
) -> np.ndarray:
    """Positions in ``gallery`` of the ``k`` nearest (cosine) of each query, nearest first.

    With groups, a query's own duplicate group is left out: the item itself and copies of its picture.
    """
    return top_k(_unit(gallery), _unit(queries), k, groups=gallery_groups, query_groups=query_groups)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def precision_at_k(found: np.ndarray, query_labels: np.ndarray, gallery_labels: np.ndarray) -> float:
    """Share of the neighbours ``found`` (from ``neighbours``) with the query's label, over labelled queries."""
    labelled = query_labels != MISSING
    return float((gallery_labels[found[labelled]] == query_labels[labelled, None]).mean())


def recall_at_k(
    queries: np.ndarray, answers: list[str], gallery: np.ndarray, gallery_shas: list[str], ks: tuple[int, ...]
) -> dict[int, float]:
    """Share of queries whose product (any copy of its picture: the sha256 in ``answers``) is in the top k."""
    found = neighbours(queries, gallery, max(ks))
    shas = np.array(gallery_shas)
    hits = shas[found] == np.array(answers)[:, None]
    return {k: float(hits[:, :k].any(axis=1).mean()) for k in ks}
