"""Content-based "for you", served by pgvector: the visitor's latest products' photo embeddings, weighted into one
profile vector, are the query of one nearest-neighbour search; the neighbours are then re-ranked by how much they
share the attributes of those products (and, once a model is trained, a little by popularity, as offline). A
first-time visitor has a personal list after one view, with no training (the offline evaluation measures the same
scoring, ``algorithms.content``)."""

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

from ..algorithms.content import PRODUCT_FIELDS, ContentProfile
from ..algorithms.hybrid import Hybrid
from ..filters import UNISEX
from ..history import latest_events
from ..model_store import trained
from .base import Candidate, Context, Strategy

# Neighbours fetched per candidate wanted, for the attribute re-ranking to choose from.
POOL_FACTOR = 3


class ForYouContent(Strategy):
    label = "for you: looks"
    needs = ("visitor",)
    overfetch = 3

    def candidates(self, context: Context, count: int) -> list[Candidate]:
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
        shares = self._attribute_shares(weights, scoring.attribute_weights)
        popularity = self._popularity()
        ranked = []
        for neighbour in neighbours:
            product = neighbour.product
            bonus = sum(
                weight * shares[name].get(getattr(product, PRODUCT_FIELDS.get(name, name)), 0.0)
                for name, weight in scoring.attribute_weights.items()
            )
            ranked.append((neighbour.similarity + bonus + popularity(product.pk), product))
        ranked.sort(key=lambda item: -item[0])
        viewed_types = shares["article_type"]
        return [Candidate(product.pk, score, self._reason(product, viewed_types)) for score, product in ranked[:count]]

    @staticmethod
    def _popularity():
        """The trained content model's popularity prior (the same as offline), once a model is trained."""
        hybrid = trained("hybrid")
        content = hybrid.sources.get("content") if isinstance(hybrid, Hybrid) else None
        if not isinstance(content, ContentProfile) or hybrid.catalogue is None:
            return lambda product_id: 0.0
        code, prior = hybrid.catalogue.code, content.popularity_weight * content.popularity

        def popularity(product_id: int) -> float:
            found = code(product_id)
            return 0.0 if found is None else float(prior[found])

        return popularity

    @staticmethod
    def _attribute_shares(weights: dict[int, float], attributes: Iterable[str]) -> dict[str, dict[object, float]]:
        shares: dict[str, Counter] = {name: Counter() for name in attributes}
        rows = Product.objects.filter(pk__in=weights).values("pk", *(PRODUCT_FIELDS.get(name, name) for name in shares))
        total = sum(weights.values()) or 1.0
        for row in rows:
            for name in shares:
                value = row[PRODUCT_FIELDS.get(name, name)]
                if value not in (None, ""):
                    shares[name][value] += weights[row["pk"]] / total
        return {name: dict(counter) for name, counter in shares.items()}

    @staticmethod
    def _reason(product: Product, viewed_types: dict[object, float]) -> str:
        if product.article_type in viewed_types:
            return f"Looks like the {product.article_type.lower()} you viewed"
        return "Looks like what you viewed"
