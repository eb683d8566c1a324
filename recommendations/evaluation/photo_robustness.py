"""Search by photo with full-size product photos, as taken and as spoilt: is the product found?"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from recommendations.perturbations import PERTURBATIONS, perturb
from recommendations.photos import handicaps, open_photo, query_images

from . import metrics
from .catalogue import CatalogueLabels
from .embedders import Embedder
from .exact_search import top_k_of_any
from .vectors import ModelVectors

PHOTO_NAME = re.compile(r"^(\d+)\.jpe?g$", re.IGNORECASE)
RECALL_KS = (1, 5, 10)


@dataclass(frozen=True)
class PhotoQuery:
    product_id: int
    perturbation: str
    images: list[Image.Image]
    """As ``query_images()`` hands them to the model: the whole photo, then its parts, zoomed-out and sharpened
    copies, RGB, reduced to the catalogue's level of detail."""


def find_photos(folders: list[Path]) -> dict[int, Path]:
    """The photos named ``<product id>.jpg`` in these folders (a later folder's photo of an id wins)."""
    photos = {}
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if match := PHOTO_NAME.match(path.name):
                photos[int(match.group(1))] = path
    return photos


def photo_queries(photos: dict[int, Path], *, seed: int, progress: bool = False) -> list[PhotoQuery]:
    """Every photo under every perturbation, decoded and reduced the way search by photo does it."""
    queries = []
    for product_id, path in tqdm(sorted(photos.items()), desc="Perturbing photos", unit=" photo", disable=not progress):
        with path.open("rb") as upload:
            photo = open_photo(upload)
        for name in PERTURBATIONS:
            images = query_images(perturb(photo, name, seed=seed, photo_id=product_id))
            queries.append(PhotoQuery(product_id=product_id, perturbation=name, images=images))
    return queries


def evaluate_photo_search(
    embedder: Embedder,
    vectors: ModelVectors,
    labels: CatalogueLabels,
    queries: list[PhotoQuery],
    *,
    progress: bool = False,
) -> dict[str, dict[str, float | int]]:
    """Recall@1/5/10 of the photographed product per perturbation, by exact search over ``vectors`` ranked as
    search by photo ranks (the best match of any of a query's images).

    A hit is the product itself or one with a byte-identical image. Photos of products that have no vector
    in ``vectors`` are left out.
    """
    embedded_ids = set(vectors.ids.tolist())
    queries = [query for query in queries if query.product_id in embedded_ids]
    if not queries:
        return {}
    retrieved = np.stack(
        [
            top_k_of_any(
                vectors.vectors,
                embedder.encode(query.images).vectors,
                np.array(handicaps(len(query.images))),
                max(RECALL_KS),
            )
            for query in tqdm(queries, desc=f"{vectors.model}: photo queries", unit=" q", disable=not progress)
        ]
    )
    wanted = labels.groups[labels.rows([query.product_id for query in queries])]
    hits = labels.groups[retrieved] == wanted[:, np.newaxis]
    perturbations = np.array([query.perturbation for query in queries])
    results = {}
    for name in PERTURBATIONS:
        selected = hits[perturbations == name]
        results[name] = {
            "photos": len(selected),
            **{f"recall@{k}": float(metrics.hit_at_k(selected, k).mean()) for k in RECALL_KS},
        }
    return results
