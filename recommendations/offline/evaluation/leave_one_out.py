"""Leave-one-out retrieval quality: each query product against the rest of the catalogue, by exact search."""

from collections import Counter

import numpy as np
from tqdm import tqdm

from recommendations.offline import metrics
from recommendations.offline.catalogue import ATTRIBUTES, MISSING, Catalogue
from recommendations.offline.exact_search import top_k

from .vectors import ModelVectors

MetricValues = dict[str, float | int]
# The value pairs most often confused, reported per attribute.
CONFUSED_PAIRS = 5


def evaluate_leave_one_out(
    vectors: ModelVectors, catalogue: Catalogue, query_ids: np.ndarray, ks: list[int], *, progress: bool = False
) -> dict[str, dict]:
    """Precision, recall, mAP and nDCG at each k, per attribute, averaged over the queries, and the pairs of
    values most often confused within the first k (``confused``, see ``confused_pairs``).

    ``catalogue`` is aligned with ``vectors.ids``. A query never retrieves itself nor the byte-identical copies
    of its image (trivial hits); a retrieved product is relevant when it shares the attribute's value. Queries
    without a value for an attribute are left out of that attribute.
    """
    rows = catalogue.rows(query_ids)
    with tqdm(total=len(rows), desc=f"{vectors.model}: leave-one-out", unit=" q", disable=not progress) as bar:
        retrieved = top_k(
            vectors.vectors,
            vectors.vectors[rows],
            max(ks),
            groups=catalogue.groups,
            query_groups=catalogue.groups[rows],
            progress=bar,
        )
    results = {}
    for attribute in ATTRIBUTES:
        codes = catalogue.labels[attribute]
        known = codes[rows] != MISSING
        query_codes, found = codes[rows[known]], codes[retrieved[known]]
        relevance = found == query_codes[:, np.newaxis]
        results[attribute] = score(relevance, relevant_counts(codes, catalogue.groups)[rows[known]], ks)
        results[attribute]["confused"] = confused_pairs(query_codes, found[:, : ks[0]], catalogue.classes[attribute])
    return results


def confused_pairs(query_codes: np.ndarray, found: np.ndarray, values: list[str]) -> list[dict]:
    """The ``CONFUSED_PAIRS`` pairs of values (in either order) that most often stand for a query's value and a
    retrieved product's other one, with their ``share`` of all retrieved products: the precision they cost.
    A retrieved product without a value is not a confusion."""
    queries = np.broadcast_to(query_codes[:, np.newaxis], found.shape)
    wrong = (found != queries) & (found != MISSING)
    pairs = Counter((min(a, b), max(a, b)) for a, b in zip(queries[wrong].tolist(), found[wrong].tolist(), strict=True))
    return [
        {"values": [values[a], values[b]], "share": count / found.size}
        for (a, b), count in pairs.most_common(CONFUSED_PAIRS)
    ]


def score(relevance: np.ndarray, relevant: np.ndarray, ks: list[int]) -> MetricValues:
    values: MetricValues = {"queries": len(relevance)}
    for k in ks:
        values[f"precision@{k}"] = _mean(metrics.precision_at_k(relevance, k))
        values[f"recall@{k}"] = _mean(metrics.recall_at_k(relevance, relevant, k))
        values[f"map@{k}"] = _mean(metrics.average_precision_at_k(relevance, relevant, k))
        values[f"ndcg@{k}"] = _mean(metrics.ndcg_at_k(relevance, relevant, k))
    return values


def relevant_counts(codes: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each product, how many others a query could retrieve that share its value: the products with
    that value, less those with its image (itself included), which are never retrieved."""
    with_value = np.bincount(codes[codes != MISSING], minlength=max(codes.max() + 1, 1))[codes]
    pairs = groups * (codes.max() + 2) + codes + 1
    _, position, pair_counts = np.unique(pairs, return_inverse=True, return_counts=True)
    return np.where(codes != MISSING, with_value - pair_counts[position], 0)


def _mean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")
