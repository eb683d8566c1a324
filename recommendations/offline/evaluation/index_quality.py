"""How close the site's HNSW search comes to exact search, and how long it takes."""

import time

import numpy as np
from tqdm import tqdm

from recommendations.offline.catalogue import Catalogue
from recommendations.offline.exact_search import top_k
from recommendations.vectors.index import stored_vector
from recommendations.vectors.neighbours import nearest
from recommendations.vectors.selectors import SimilarOptions
from shop.models import Product

from .timing import latency_summary
from .vectors import ModelVectors


def evaluate_index(
    vectors: ModelVectors, catalogue: Catalogue, query_ids: np.ndarray, k: int, *, progress: bool = False
) -> dict[str, float | int]:
    """Recall@k of ``nearest()`` (the query the product page runs, with its scope) against exact top-k
    over the same vectors, and the latency of ``nearest()``. ``vectors`` must come from a space."""
    space = vectors.space
    if space is None:
        raise ValueError("Only vectors read from an embedding space have an index.")
    rows = catalogue.rows(query_ids)
    exact = vectors.ids[
        top_k(vectors.vectors, vectors.vectors[rows], k, groups=catalogue.groups, query_groups=catalogue.groups[rows])
    ]
    products = Product.objects.in_bulk(query_ids.tolist())

    def search(product: Product) -> set[int]:
        scope = SimilarOptions().scope_for(product)
        return {n.product.pk for n in nearest(space, stored_vector(space, product.pk), limit=k, scope=scope)}

    search(products[int(query_ids[0])])  # the first query opens the connection and loads the index
    recalls, seconds = [], []
    for query_id, expected in tqdm(
        zip(query_ids.tolist(), exact, strict=True),
        total=len(query_ids),
        desc=f"{vectors.model}: index",
        unit=" q",
        disable=not progress,
    ):
        started = time.perf_counter()
        found = search(products[query_id])
        seconds.append(time.perf_counter() - started)
        recalls.append(len(found & set(expected.tolist())) / len(expected))
    return {"queries": len(query_ids), f"recall@{k}": float(np.mean(recalls)), **latency_summary(seconds)}
