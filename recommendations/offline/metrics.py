"""Ranking metrics with binary relevance, one value per query.

``relevance`` is a boolean ``(queries, depth)`` array: whether each retrieved item, best first, is relevant.
``relevant`` is the number of relevant items each query could have retrieved (its whole catalogue, not only
the top ``depth``). Where a query has nothing relevant to find, recall, AP and nDCG are NaN: average them
with ``np.nanmean``.
"""

import numpy as np

from .catalogue import MISSING


def precision_at_k(relevance: np.ndarray, k: int) -> np.ndarray:
    """Relevant items among the first ``k``, over ``k`` (a short list counts its missing places as misses)."""
    return relevance[:, :k].sum(axis=1) / k


def recall_at_k(relevance: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """Relevant items among the first ``k``, over all the relevant items there are."""
    return _where_any(relevant, relevance[:, :k].sum(axis=1) / np.maximum(relevant, 1))


def average_precision_at_k(relevance: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """The precision at the rank of each relevant item in the first ``k``, summed and divided by
    ``min(k, relevant)``: 1 when the first ``k`` are as good as they can be."""
    hits = relevance[:, :k].astype(np.float64)
    ranks = np.arange(1, hits.shape[1] + 1)
    precision_at_hits = np.cumsum(hits, axis=1) / ranks * hits
    return _where_any(relevant, precision_at_hits.sum(axis=1) / np.maximum(np.minimum(relevant, k), 1))


def ndcg_at_k(relevance: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """DCG (gain 1 over ``log2(rank + 1)``) of the first ``k``, over the DCG of ``min(k, relevant)`` hits on top."""
    hits = relevance[:, :k].astype(np.float64)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discounts[: hits.shape[1]]
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(relevant, k)]
    return _where_any(relevant, dcg / np.where(ideal > 0, ideal, 1.0))


def hit_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """Whether any of the first ``k`` is a right answer: recall@k when a query has one right answer."""
    return hits[:, :k].any(axis=1)


def _where_any(relevant: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(relevant) > 0, values, np.nan)


def label_precision(found: np.ndarray, query_labels: np.ndarray, gallery_labels: np.ndarray, k: int) -> float:
    """Mean P@k of the queries that have a label: how many of the first ``k`` found (positions in the gallery,
    best first) share the query's label."""
    labelled = query_labels != MISSING
    relevance = gallery_labels[found[labelled]] == query_labels[labelled, np.newaxis]
    return float(precision_at_k(relevance, k).mean())
