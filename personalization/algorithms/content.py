"""Content-based "for you": a profile of the shopper's latest products, their photos' embeddings and their
attributes, matched against the catalogue, with a little of each product's popularity to choose among look-alikes.
It needs no other shopper, so a first-time visitor gets a personal list after one view, and a product nobody has
seen yet can be recommended."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
from scipy import sparse

from ..catalogue import CatalogueArrays
from ..interactions import KINDS, EventLog
from .base import Algorithm, history_rows
from .feedback import DEFAULT_FEEDBACK_WEIGHTS

# How much a product's matching the profile's attributes adds to its photo's similarity (cosine, up to 1).
DEFAULT_ATTRIBUTE_WEIGHTS: dict[str, float] = {
    "article_type": 0.30,
    "base_colour": 0.20,
    "gender": 0.10,  # little: the page's gender is a rule already
    "usage": 0.10,
    "brand": 0.10,
}
# The attributes as the product model names them (a brand is compared by its id).
PRODUCT_FIELDS: dict[str, str] = {"brand": "brand_id"}


class ContentProfile(Algorithm):
    """The last ``recent`` events, each weighted by its kind and halved every ``half_life`` events back."""

    name = "content"

    def __init__(
        self,
        *,
        recent: int = 20,
        half_life: float = 5.0,
        attribute_weights: Mapping[str, float] | None = None,
        kind_weights: Mapping[str, float] | None = None,
        popularity_weight: float = 0.3,
        dimensions: int = 64,
    ) -> None:
        self.recent = recent
        self.half_life = half_life
        self.attribute_weights = dict(DEFAULT_ATTRIBUTE_WEIGHTS if attribute_weights is None else attribute_weights)
        self.kind_weights = dict(kind_weights or DEFAULT_FEEDBACK_WEIGHTS)
        self.popularity_weight = popularity_weight
        self.dimensions = dimensions
        self.popularity = np.zeros(0, dtype=np.float32)
        self.embeddings: np.ndarray | None = None
        self.codes: dict[str, np.ndarray] = {}
        self.one_hot: dict[str, sparse.csr_matrix] = {}

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        self.embeddings = reduce_dimensions(catalogue.embeddings, self.dimensions)
        # Among products that look alike, those shoppers take to first: log-scaled event counts, 0 to 1.
        counts = np.log1p(np.bincount(log.product, minlength=len(catalogue)).astype(np.float32))
        self.popularity = counts / counts.max() if counts.max() > 0 else counts
        self.codes = {}
        self.one_hot = {}
        for name in self.attribute_weights:
            values, codes = np.unique(catalogue[name].astype(str), return_inverse=True)
            codes = codes.astype(np.int32)
            codes[values[codes] == ""] = -1  # unknown matches nothing
            self.codes[name] = codes
            known = codes >= 0
            # products x values, and one more column that no product fills, for the unknown (code -1) to read
            self.one_hot[name] = sparse.csr_matrix(
                (np.ones(known.sum(), dtype=np.float32), (np.flatnonzero(known), codes[known])),
                shape=(len(codes), len(values) + 1),
            )
        return self

    def profile(self, history: EventLog, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The products of the latest ``recent`` events and each one's weight."""
        latest = events[-self.recent :]
        return history.product[latest], self.weights([KINDS[code] for code in history.kind[latest]])

    def weights(self, kinds: list[str]) -> np.ndarray:
        """Each event's weight in the profile, oldest first: its kind's, halved every ``half_life`` events back."""
        by_kind = np.array([self.kind_weights.get(kind, 0.0) for kind in kinds])
        age = np.arange(len(kinds))[::-1]
        return by_kind * np.power(0.5, age / self.half_life)

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        rows, columns, values = [], [], []
        for row, events in enumerate(history_rows(history, shoppers)):
            items, weights = self.profile(history, events)
            rows.extend([row] * len(items))
            columns.extend(items.tolist())
            values.extend(weights.tolist())
        profiles = sparse.csr_matrix((values, (rows, columns)), shape=(len(shoppers), self.products), dtype=np.float32)
        return self.score_profiles(profiles)

    @property
    def products(self) -> int:
        return len(next(iter(self.codes.values())))

    def score_profiles(self, profiles: sparse.csr_matrix) -> np.ndarray:
        """Rows of product weights (shoppers x products) to scores: the cosine of each product's embedding to the
        weighted sum of the profile's, plus each attribute's weight times the profile's share of the product's
        value of it."""
        scores = np.zeros(profiles.shape, dtype=np.float32)
        if self.embeddings is not None:
            vectors = np.asarray(profiles @ self.embeddings, dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            np.divide(vectors, norms, out=vectors, where=norms > 0)
            scores += vectors @ self.embeddings.T
        if len(self.popularity):
            scores += self.popularity_weight * self.popularity
        totals = np.asarray(profiles.sum(axis=1), dtype=np.float32)
        totals[totals == 0] = 1.0
        for name, weight in self.attribute_weights.items():
            codes = self.codes[name]
            shares = np.asarray((profiles @ self.one_hot[name]).todense(), dtype=np.float32) / totals
            scores += weight * shares[:, codes]
        return scores


def reduce_dimensions(embeddings: np.ndarray | None, dimensions: int) -> np.ndarray | None:
    """The unit vectors projected on their ``dimensions`` principal directions (uncentred: cosines are about
    directions from the origin), unit length again. Scoring every product then reads a sixth of the memory: a
    request's scoring is bound by memory, not arithmetic (64 of the default model's 384 dimensions keep 93% of the
    catalogue's variance)."""
    if embeddings is None or embeddings.shape[1] <= dimensions:
        return embeddings
    _, vectors = np.linalg.eigh(embeddings.T @ embeddings)
    reduced = np.ascontiguousarray(embeddings @ vectors[:, ::-1][:, :dimensions], dtype=np.float32)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    np.divide(reduced, norms, out=reduced, where=norms > 0)
    return reduced
