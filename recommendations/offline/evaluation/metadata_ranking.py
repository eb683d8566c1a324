"""The product page's similar items with the image-plus-metadata ranking on and off."""

import time

import numpy as np
from django.conf import settings
from tqdm import tqdm

from recommendations.models import EmbeddingSpace
from recommendations.offline.catalogue import ATTRIBUTES
from recommendations.vectors.selectors import similar_products
from shop.models import Product

from .timing import latency_summary


def evaluate_metadata_ranking(
    space: EmbeddingSpace, query_ids: np.ndarray, k: int, *, progress: bool = False
) -> dict[str, object]:
    """Precision@k per attribute of ``similar_products()`` (duplicates collapsed, as shoppers see them),
    with the metadata ranking off and on, and the latency of each."""
    products = Product.objects.in_bulk(query_ids.tolist())
    results: dict[str, object] = {
        "queries": len(query_ids),
        "k": k,
        "weights": dict(settings.SIMILAR_ITEMS_METADATA_WEIGHTS),
    }
    for setting, enabled in (("off", False), ("on", True)):
        similar_products(products[int(query_ids[0])], k=k, space=space, metadata_ranking=enabled)  # warm-up
        precisions: dict[str, list[float]] = {attribute: [] for attribute in ATTRIBUTES}
        seconds = []
        for query_id in tqdm(
            query_ids.tolist(), desc=f"{space.backbone}: metadata ranking {setting}", unit=" q", disable=not progress
        ):
            product = products[query_id]
            started = time.perf_counter()
            items = similar_products(product, k=k, space=space, metadata_ranking=enabled)
            seconds.append(time.perf_counter() - started)
            for attribute, values in precisions.items():
                value = getattr(product, attribute)
                if value not in (None, ""):
                    values.append(sum(getattr(item.product, attribute) == value for item in items) / k)
        results[setting] = {
            **{f"precision@{k}": {name: float(np.mean(values)) for name, values in precisions.items() if values}},
            **latency_summary(seconds),
        }
    return results
