"""Retrieval figures: do an item's neighbours share its labels, and does a photo find its product."""

import numpy as np
import torch
import torch.nn.functional as F

from recommendations.training.catalogue import MISSING

CHUNK = 1024


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
    gallery_t = F.normalize(torch.as_tensor(gallery, dtype=torch.float32), dim=1)
    found = []
    for start in range(0, len(queries), CHUNK):
        block = F.normalize(torch.as_tensor(queries[start : start + CHUNK], dtype=torch.float32), dim=1)
        similarities = block @ gallery_t.T
        if query_groups is not None and gallery_groups is not None:
            same = query_groups[start : start + CHUNK, None] == gallery_groups[None, :]
            similarities[torch.from_numpy(same)] = -torch.inf
        found.append(similarities.topk(k, dim=1).indices.numpy())
    return np.concatenate(found) if found else np.empty((0, k), dtype=np.int64)


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
