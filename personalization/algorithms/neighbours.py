"""Neighbourhood methods on the feedback matrix: item to item ("shoppers who liked this also liked") and user to
user ("shoppers like you liked")."""

from __future__ import annotations

import warnings
from typing import Self

import numpy as np
from implicit.nearest_neighbours import CosineRecommender
from implicit.utils import ParameterWarning
from scipy import sparse

from ..catalogue import CatalogueArrays
from ..interactions import EventLog
from .base import Algorithm
from .feedback import confidence_matrix, normalise_rows


class ItemKNN(Algorithm):
    """Cosine similarity between products' shoppers, the ``neighbours`` most similar kept per product; a shopper's
    score for a product sums its similarity to what they did, weighted by how strongly they did it."""

    name = "item_knn"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours
        self.similarity = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        model = CosineRecommender(K=self.neighbours)
        with warnings.catch_warnings():
            # implicit hands its own normalised copy on as COO, then warns about it.
            warnings.simplefilter("ignore", ParameterWarning)
            model.fit(confidence_matrix(log), show_progress=False)
        self.similarity = model.similarity.tocsr().astype(np.float32)
        self.similarity.setdiag(0)
        self.similarity.eliminate_zeros()
        return self

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        return np.asarray((confidence_matrix(history, shoppers=shoppers) @ self.similarity).todense())


class UserKNN(Algorithm):
    """The ``neighbours`` shoppers whose histories are most like the asked one's (cosine), their products weighted
    by how alike they are. Only the training shoppers' rows are kept; the asked shopper is folded in, and found
    among them only under another key."""

    name = "user_knn"

    def __init__(self, neighbours: int = 50) -> None:
        self.neighbours = neighbours
        self.shoppers = sparse.csr_matrix((0, 0), dtype=np.float32)
        self.shopper_ids = np.zeros(0, dtype=object)

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        self.shoppers = normalise_rows(confidence_matrix(log))
        self.by_product = self.shoppers.T.tocsr()  # products x shoppers: what a history is multiplied by
        self.shopper_ids = log.shopper_ids
        self._codes = {key: code for code, key in enumerate(log.shopper_ids)}
        return self

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        asked = normalise_rows(confidence_matrix(history, shoppers=shoppers))
        similarity = np.asarray((asked @ self.by_product).todense())
        for row, code in enumerate(shoppers):
            itself = self._codes.get(history.shopper_ids[code])
            if itself is not None:
                similarity[row, itself] = 0.0
        count = min(self.neighbours, similarity.shape[1])
        if count == 0:
            return np.zeros((len(shoppers), self.shoppers.shape[1]), dtype=np.float32)
        nearest = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
        weights = np.take_along_axis(similarity, nearest, axis=1)
        scores = np.zeros((len(shoppers), self.shoppers.shape[1]), dtype=np.float32)
        for row in range(len(shoppers)):
            scores[row] = weights[row] @ self.shoppers[nearest[row]]
        return scores
