"""Search by photo with full-size product photos, as taken and as spoilt: is the product found?"""

import numpy as np
from PIL import Image
from tqdm import tqdm

from recommendations.offline import metrics
from recommendations.offline.catalogue import Catalogue
from recommendations.offline.exact_search import top_k_of_any
from recommendations.offline.perturbations import PERTURBATIONS
from recommendations.offline.photo_queries import PhotoQuery
from recommendations.photo_search.photos import handicaps

from .embedders import Embedder
from .vectors import ModelVectors

RECALL_KS = (1, 5, 10)

PreparedQuery = tuple[PhotoQuery, list[Image.Image]]
"""A query with the images the search embeds for it (``PhotoQuery.images``), computed once for every model."""


def prepare(queries: list[PhotoQuery], *, progress: bool = False) -> list[PreparedQuery]:
    return [
        (query, query.images())
        for query in tqdm(queries, desc="Perturbing photos", unit=" query", disable=not progress)
    ]


def evaluate_photo_search(
    embedder: Embedder,
    vectors: ModelVectors,
    catalogue: Catalogue,
    queries: list[PreparedQuery],
    *,
    progress: bool = False,
) -> dict[str, dict[str, float | int]]:
    """Recall@1/5/10 of the photographed product per perturbation, by exact search over ``vectors`` ranked as
    search by photo ranks (the best match of any of a query's images).

    A hit is the product itself or one with a byte-identical image. Photos of products that have no vector
    in ``vectors`` are left out.
    """
    embedded_ids = set(vectors.ids.tolist())
    queries = [(query, images) for query, images in queries if query.product_id in embedded_ids]
    if not queries:
        return {}
    retrieved = np.stack(
        [
            top_k_of_any(
                vectors.vectors,
                embedder.encode(images).vectors,
                np.array(handicaps(len(images))),
                max(RECALL_KS),
            )
            for _, images in tqdm(queries, desc=f"{vectors.model}: photo queries", unit=" q", disable=not progress)
        ]
    )
    wanted = catalogue.groups[catalogue.rows([query.product_id for query, _ in queries])]
    hits = catalogue.groups[retrieved] == wanted[:, np.newaxis]
    perturbations = np.array([query.perturbation for query, _ in queries])
    results = {}
    for name in PERTURBATIONS:
        selected = hits[perturbations == name]
        results[name] = {
            "photos": len(selected),
            **{f"recall@{k}": float(metrics.hit_at_k(selected, k).mean()) for k in RECALL_KS},
        }
    return results
