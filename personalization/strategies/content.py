"""Content-based "for you". Once a model is trained, the trained content profile scores every product from the
visitor's latest events, exactly as the offline evaluation measures it (``algorithms.content``): their photos'
look, the genders, article types and colours they keep to, their price band, and popularity. Before the first
training (or when all the visitor's products are newer than the model), pgvector answers: the visitor's latest
products' photo embeddings, weighted into one profile vector, are the query of one nearest-neighbour search, and
the neighbours are re-ranked by the same look and segment terms (popularity and prices need the trained model). A
first-time visitor has a personal list after one view, with no training."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from recommendations.models import ProductEmbedding
from recommendations.vectors.index import from_vector_bytes, vector_bytes
from recommendations.vectors.neighbours import Scope, nearest
from recommendations.vectors.selectors import serving_space
from shop.models import Product
from shop.selectors import ProductFilters

from ..algorithms.content import ContentProfile
from ..catalogue import UNISEX, CatalogueArrays
from ..history import latest_events
from .base import Candidate, Context
from .learnt import LearntStrategy

# Neighbours fetched per candidate wanted, for the segment re-ranking to choose from.
POOL_FACTOR = 3


class ForYouContent(LearntStrategy):
    label = "for you: looks"
    source = "content"
    overfetch = 3

    def candidates(self, context: Context, count: int) -> list[Candidate]:
        return super().candidates(context, count) or self._nearest_looks(context, count)

    def explain(self, catalogue: CatalogueArrays, viewed_types: set[str], code: int) -> str:
        return self._reason(str(catalogue["article_type"][code]), viewed_types)

    def _nearest_looks(self, context: Context, count: int) -> list[Candidate]:
        scoring = ContentProfile()
        events = latest_events(context, limit=scoring.recent)
        space = serving_space()
        if not events or space is None:
            return []
        weights = dict.fromkeys((product_id for product_id, _, _ in events), 0.0)
        for (product_id, _, _), weight in zip(events, scoring.weights([kind for _, kind, _ in events]), strict=True):
            weights[product_id] += float(weight)
        vectors = (
            ProductEmbedding.objects.filter(space=space, product_id__in=weights, status=ProductEmbedding.Status.OK)
            .annotate(vector_data=vector_bytes())
            .values_list("product_id", "vector_data")
        )
        profile = np.zeros(space.dimensions, dtype=np.float32)
        for product_id, data in vectors:
            vector = from_vector_bytes(data)
            profile += weights[product_id] * vector / (np.linalg.norm(vector) or 1.0)
        if not profile.any():
            return []
        gender = context.gender
        filters = ProductFilters({"gender": (gender, UNISEX)} if gender and gender != UNISEX else {})
        scope = Scope(filters=filters, in_stock=True, exclude_ids=frozenset(weights) | context.excluded_ids)
        neighbours = nearest(
            space, (profile / np.linalg.norm(profile)).tolist(), limit=count * POOL_FACTOR, scope=scope
        )
        shares = self._segment_shares(weights, scoring.segment_weights)
        ranked = []
        for neighbour in neighbours:
            product = neighbour.product
            fit = sum(
                weight * np.log(_share(shares[name], name, _segment(product, name)) + smoothing)
                for name, (weight, smoothing) in scoring.segment_weights.items()
            )
            ranked.append((scoring.look_weight * neighbour.similarity + fit, product))
        ranked.sort(key=lambda item: -item[0])
        viewed_types = set(shares["article_type"])
        return [
            Candidate(product.pk, float(score), self._reason(product.article_type, viewed_types))
            for score, product in ranked[:count]
        ]

    @staticmethod
    def _segment_shares(weights: dict[int, float], segments: Iterable[str]) -> dict[str, dict[str, float]]:
        shares: dict[str, Counter] = {name: Counter() for name in segments}
        total = sum(weights.values()) or 1.0
        fields = {part for name in shares for part in name.split("+")}
        for product in Product.objects.filter(pk__in=weights).only("pk", *fields):
            for name in shares:
                value = _segment(product, name)
                if value:
                    shares[name][value] += weights[product.pk] / total
        return {name: dict(counter) for name, counter in shares.items()}

    @staticmethod
    def _reason(article_type: str, viewed_types: Iterable[str]) -> str:
        if article_type and article_type in viewed_types:
            return f"Looks like the {article_type.lower()} you viewed"
        return "Looks like what you viewed"


def _segment(product: Product, name: str) -> str:
    """The product's value of a segment (``algorithms.content.segment_values``: attributes joined by "/"), "" when
    any is unknown."""
    values = [str(getattr(product, part) or "") for part in name.split("+")]
    return "" if "" in values else "/".join(values)


def _share(shares: dict[str, float], name: str, value: str) -> float:
    """The profile's share of a product's segment value; a unisex product suits the shopper as their own gender's
    (as ``ContentProfile.score_profiles``)."""
    if name == "gender" and value == UNISEX:
        return max(shares.values(), default=0.0)
    return shares.get(value, 0.0)
