"""Content-based "for you": a profile of the shopper's latest products (what they look like, which genders and
article types they are, how dear they are for their type) matched against the catalogue, with each product's
popularity as the prior. It needs no other shopper's taste, so a first-time visitor gets a personal list after one
view, and a product nobody has seen yet can be recommended."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
from scipy import sparse

from ..catalogue import UNISEX, CatalogueArrays
from ..interactions import KINDS, EventLog
from .base import Algorithm, history_rows
from .feedback import DEFAULT_FEEDBACK_WEIGHTS

# The segments a shopper keeps to: weight and smoothing of log(profile's share of the product's value + smoothing).
# The smoothing is the share a value the profile never had counts as: a shopper strays into other article types
# far more often than into another gender's products.
DEFAULT_SEGMENT_WEIGHTS: dict[str, tuple[float, float]] = {
    "gender": (2.0, 0.01),
    "article_type": (0.5, 0.03),
    "article_type+base_colour": (0.3, 0.1),  # the colours they take in that type
}
PRICE_BANDS = 10


class ContentProfile(Algorithm):
    """The last ``recent`` events, each weighted by its kind and halved every ``half_life`` events back. A
    product's score (``score_profiles``) adds:

    - ``look_weight`` x the cosine of its photo's embedding to the profile's weighted mean embedding;
    - ``popularity_weight`` x log(1 + its events in the training log): among products that suit the shopper, the
      ones shoppers take to;
    - per segment (``segment_weights``: gender, article type, colour within the type), weight x log(the
      profile's share of the product's value + smoothing);
    - ``-price_weight`` x (its price's decile within its article type - the profile's mean decile)²: a budget
      shopper keeps to the cheaper end of whatever they buy, a premium one to the dearer.
    """

    name = "content"

    def __init__(
        self,
        *,
        recent: int = 50,
        half_life: float = 50.0,
        kind_weights: Mapping[str, float] | None = None,
        look_weight: float = 0.5,
        popularity_weight: float = 1.0,
        segment_weights: Mapping[str, tuple[float, float]] | None = None,
        price_weight: float = 0.15,
        dimensions: int = 64,
    ) -> None:
        self.recent = recent
        self.half_life = half_life
        self.kind_weights = dict(kind_weights or DEFAULT_FEEDBACK_WEIGHTS)
        self.look_weight = look_weight
        self.popularity_weight = popularity_weight
        self.segment_weights = dict(DEFAULT_SEGMENT_WEIGHTS if segment_weights is None else segment_weights)
        self.price_weight = price_weight
        self.dimensions = dimensions
        self.popularity = np.zeros(0, dtype=np.float32)
        self.embeddings: np.ndarray | None = None
        self.codes: dict[str, np.ndarray] = {}
        self.one_hot: dict[str, sparse.csr_matrix] = {}
        self.price_decile = np.zeros(0, dtype=np.float32)
        self.unisex_code: int | None = None

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        self.embeddings = reduce_dimensions(catalogue.embeddings, self.dimensions)
        self.popularity = np.log1p(np.bincount(log.product, minlength=len(catalogue)).astype(np.float32))
        self.price_decile = price_deciles(catalogue)
        self.codes = {}
        self.one_hot = {}
        for name in self.segment_weights:
            values, codes = np.unique(segment_values(catalogue, name), return_inverse=True)
            codes = codes.astype(np.int32)
            codes[values[codes] == ""] = len(values)  # unknown: a column that no product fills, so never shared
            self.codes[name] = codes
            if name == "gender":
                found = np.flatnonzero(values == UNISEX)
                self.unisex_code = int(found[0]) if len(found) else None
            self.one_hot[name] = sparse.csr_matrix(
                (np.ones(len(codes), dtype=np.float32), (np.arange(len(codes)), codes)),
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
        return len(self.price_decile)

    def score_profiles(self, profiles: sparse.csr_matrix) -> np.ndarray:
        """Rows of product weights (shoppers x products) to scores (the class's docstring)."""
        scores = np.zeros(profiles.shape, dtype=np.float32)
        if self.embeddings is not None and self.look_weight:
            vectors = np.asarray(profiles @ self.embeddings, dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            np.divide(vectors, norms, out=vectors, where=norms > 0)
            scores += self.look_weight * (vectors @ self.embeddings.T)
        if len(self.popularity):
            scores += self.popularity_weight * self.popularity
        totals = np.asarray(profiles.sum(axis=1), dtype=np.float32)
        totals[totals == 0] = 1.0
        for name, (weight, smoothing) in self.segment_weights.items():
            shares = np.asarray((profiles @ self.one_hot[name]).todense(), dtype=np.float32) / totals
            if name == "gender" and self.unisex_code is not None:
                # A unisex product suits the shopper as well as their own gender's.
                shares[:, self.unisex_code] = shares.max(axis=1)
            scores += weight * np.log(shares + smoothing)[:, self.codes[name]]
        if self.price_weight:
            scores -= self.price_weight * self.price_distance(profiles)
        return scores

    def price_distance(self, profiles: sparse.csr_matrix) -> np.ndarray:
        """(product's price decile - the profile's weighted mean decile)², 0 where either is unknown."""
        known = ~np.isnan(self.price_decile)
        deciles = np.where(known, self.price_decile, 0.0).astype(np.float32)
        weight = np.asarray(profiles @ known.astype(np.float32)).ravel()
        usual = np.divide(np.asarray(profiles @ deciles).ravel(), weight, out=np.zeros_like(weight), where=weight > 0)
        distance = (deciles[None, :] - usual[:, None]) ** 2
        distance[:, ~known] = 0.0
        distance[weight == 0] = 0.0
        return distance


def segment_values(catalogue: CatalogueArrays, name: str) -> np.ndarray:
    """Each product's value of a segment: an attribute, or several joined by "+" (e.g. an article type's colour);
    "" when any is unknown."""
    columns = [catalogue[part].astype(str) for part in name.split("+")]
    joined = columns[0]
    for column in columns[1:]:
        joined = np.where((joined == "") | (column == ""), "", np.char.add(np.char.add(joined, "/"), column))
    return joined


def price_deciles(catalogue: CatalogueArrays) -> np.ndarray:
    """Each product's price decile among its article type's priced products (0 the cheapest tenth, 9 the dearest);
    NaN without a price."""
    price = np.asarray(catalogue.price, dtype=np.float64)
    known = ~np.isnan(price)
    _, types = np.unique(catalogue["article_type"].astype(str), return_inverse=True)
    deciles = np.full(len(price), np.nan, dtype=np.float32)
    order = np.lexsort((np.where(known, price, 0.0), types))
    order = order[known[order]]
    sorted_types = types[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_types)) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    deciles[order] = np.minimum(rank * PRICE_BANDS // np.repeat(sizes, sizes), PRICE_BANDS - 1)
    return deciles


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
