"""Turn nearest neighbours into the cards shoppers see: duplicates collapsed, optional metadata boost, reasons."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from shop.models import Product

from .neighbours import Neighbour

# Attributes a card names when the item shares them with the product it is shown for.
REASON_FIELDS = {"article_type": "Same type", "base_colour": "Same colour", "usage": "Same usage"}


@dataclass
class SimilarItem:
    product: Product
    similarity: float
    """Cosine similarity of the images: 1 for the same picture."""
    score: float
    """What the items are ordered by: the similarity, plus the metadata boost when that ranking is on."""
    reasons: list[str] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    """Other products with the same or a nearly identical image, collapsed into this card."""


def collapse_duplicates(neighbours: list[Neighbour], *, threshold: float) -> list[tuple[Neighbour, list[int]]]:
    """Keep the best of each group of byte-identical or nearly identical images (cosine distance <= threshold).

    Returns the kept neighbours, best first, each with the ids collapsed into it.
    """
    kept: list[tuple[Neighbour, list[int]]] = []
    kept_vectors = np.empty((0, neighbours[0].vector.shape[0] if neighbours else 0), dtype=np.float32)
    for neighbour in neighbours:
        distances = 1.0 - kept_vectors @ neighbour.vector
        same = [
            position
            for position, (other, _) in enumerate(kept)
            if other.product.image_sha256 == neighbour.product.image_sha256 or distances[position] <= threshold
        ]
        if same:
            kept[same[0]][1].append(neighbour.product.pk)
        else:
            kept.append((neighbour, []))
            kept_vectors = np.vstack([kept_vectors, neighbour.vector])
    return kept


def metadata_boost(product: Product, candidate: Product, weights: Mapping[str, float]) -> float:
    """The sum of the weights of the attributes both products have and share."""
    boost = 0.0
    for name, weight in weights.items():
        value = getattr(product, name)
        if value is not None and value == getattr(candidate, name):
            boost += weight
    return boost


def reasons(product: Product, candidate: Product) -> list[str]:
    return [
        label
        for name, label in REASON_FIELDS.items()
        if getattr(product, name) is not None and getattr(product, name) == getattr(candidate, name)
    ]
