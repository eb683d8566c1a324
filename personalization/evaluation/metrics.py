"""Ranking metrics over the whole catalogue, with binary relevance.

Each test shopper gets a list of product codes, best first (``top_k``), from scores over every product, their own
training products left out; a place that the algorithm could not fill (score ``-inf`` or NaN) is ``-1`` and counts
as a miss. Per shopper, at each cut-off k:

- precision: hits in the first k over k; recall: hits over the shopper's relevant products;
- F1: the harmonic mean of that shopper's precision and recall (0 without a hit), then averaged over shoppers;
- AP (MAP when averaged): the precision at the rank of each hit within k, summed and divided by
  ``min(k, relevant)``, so that a list as good as it can be scores 1;
- nDCG: DCG with gain ``1 / log2(rank + 1)``, over the DCG of ``min(k, relevant)`` hits on top;
- hit rate: whether any of the first k is relevant.

Over all the lists: catalogue coverage (the share of the catalogue in any top-k list) and novelty (the mean, over
every recommended place, of ``-log2`` of the product's share of the training events, add-one smoothed so that a
product nobody touched has a finite, highest novelty).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

KS: tuple[int, ...] = (5, 10, 20)
RANKING_METRICS: tuple[str, ...] = ("precision", "recall", "f1", "map", "ndcg", "hit_rate")


def exclude(scores: np.ndarray, seen: sparse.csr_matrix) -> np.ndarray:
    """``scores`` as floats with NaN and the ``seen`` products (a row per scored shopper) set to ``-inf``."""
    scores = np.array(scores, dtype=np.float32)
    scores[np.isnan(scores)] = -np.inf
    rows, columns = seen.nonzero()
    scores[rows, columns] = -np.inf
    return scores


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` best product codes, best first; ``-1`` where only ``-inf`` scores were left."""
    k = min(k, scores.shape[1])
    candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    # Best first; among equal scores the lower product code first, so that a ranking is reproducible.
    order = np.lexsort((candidates, -candidate_scores), axis=1)
    ranked = np.take_along_axis(candidates, order, axis=1)
    ranked[np.take_along_axis(candidate_scores, order, axis=1) == -np.inf] = -1
    return ranked


def hits(ranked: np.ndarray, relevant: sparse.csr_matrix) -> np.ndarray:
    """Whether each listed product is in its row's relevant set (rows aligned with ``relevant``'s)."""
    products = relevant.shape[1]
    coo = relevant.tocoo()
    relevant_keys = np.sort(coo.row.astype(np.int64) * products + coo.col)
    keys = np.arange(len(ranked), dtype=np.int64)[:, np.newaxis] * products + ranked
    position = np.minimum(np.searchsorted(relevant_keys, keys), max(len(relevant_keys) - 1, 0))
    found = relevant_keys[position] == keys if len(relevant_keys) else np.zeros(keys.shape, dtype=bool)
    return found & (ranked >= 0)


def ranking_metrics(hit: np.ndarray, relevant: np.ndarray, ks: Sequence[int] = KS) -> dict[str, np.ndarray]:
    """Per-shopper values, keyed ``"<metric>@<k>"``; ``relevant`` is each shopper's count (at least 1)."""
    relevant = np.asarray(relevant, dtype=np.float64)
    hit = hit.astype(np.float64)
    ranks = np.arange(1, hit.shape[1] + 1)
    precision_at_rank = np.cumsum(hit, axis=1) / ranks
    discounts = 1.0 / np.log2(ranks + 1)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])
    values: dict[str, np.ndarray] = {}
    for k in ks:
        found = hit[:, :k].sum(axis=1)
        precision = found / k
        recall = found / relevant
        both = precision + recall
        values[f"precision@{k}"] = precision
        values[f"recall@{k}"] = recall
        values[f"f1@{k}"] = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
        values[f"map@{k}"] = (precision_at_rank[:, :k] * hit[:, :k]).sum(axis=1) / np.minimum(relevant, k)
        values[f"ndcg@{k}"] = hit[:, :k] @ discounts[:k] / ideal[np.minimum(relevant, k).astype(int)]
        values[f"hit_rate@{k}"] = (found > 0).astype(np.float64)
    return values


def coverage(ranked: np.ndarray, k: int, products: int) -> float:
    """The share of the catalogue that appears in at least one of the lists' first ``k``."""
    listed = ranked[:, :k]
    return len(np.unique(listed[listed >= 0])) / products


def popularity_share(product: np.ndarray, products: int) -> np.ndarray:
    """Each product's add-one smoothed share of the events (``product``: one code per training event)."""
    return (np.bincount(product, minlength=products) + 1.0) / (len(product) + products)


def novelty(ranked: np.ndarray, k: int, share: np.ndarray) -> float:
    """Mean ``-log2`` popularity share of the products in the lists' first ``k`` (NaN when nothing is listed)."""
    listed = ranked[:, :k]
    listed = listed[listed >= 0]
    return float(-np.log2(share[listed]).mean()) if len(listed) else float("nan")
