"""Matrix factorisation on weighted implicit feedback with ``implicit``: ALS and BPR.

Only the product factors are kept. A shopper's vector is solved from their own history whenever they are scored
(ALS's least-squares step for one row), so a visitor's list follows their latest click without retraining.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from threadpoolctl import threadpool_limits

from ..catalogue import CatalogueArrays
from ..interactions import EventLog
from .base import Algorithm
from .feedback import confidence_matrix


class _Factorisation(Algorithm):
    reason: ClassVar[str] = "Picked for you from what shoppers like you liked"

    def __init__(self, *, factors: int = 64, regularization: float = 0.05, iterations: int = 15, seed: int = 0):
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.seed = seed
        self.item_factors = np.zeros((0, factors), dtype=np.float32)
        self.gram = np.zeros((factors, factors), dtype=np.float32)  # YᵀY + λI, the same for every shopper

    def _keep(self, item_factors: np.ndarray) -> None:
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        width = self.item_factors.shape[1]
        self.gram = self.item_factors.T @ self.item_factors + self.regularization * np.eye(width, dtype=np.float32)

    def fold_in(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        """The shoppers' vectors, least squares against the product factors (ALS's user step)."""
        rows = confidence_matrix(history, shoppers=shoppers)
        factors, gram = self.item_factors, self.gram
        vectors = np.zeros((len(shoppers), factors.shape[1]), dtype=np.float32)
        for row in range(rows.shape[0]):
            start, end = rows.indptr[row], rows.indptr[row + 1]
            if start == end:
                continue
            items, confidence = rows.indices[start:end], rows.data[start:end] * self.alpha
            seen = factors[items]
            # (YᵀY + Yᵀ(C - I)Y + λI) x = YᵀC p, with p = 1 on the shopper's products
            lhs = gram + seen.T @ (seen * confidence[:, None])
            vectors[row] = np.linalg.solve(lhs, seen.T @ (1.0 + confidence))
        return vectors

    alpha: float = 1.0

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        return self.fold_in(history, shoppers) @ self.item_factors.T


class ALS(_Factorisation):
    """Alternating least squares (Hu, Koren, Volinsky 2008): confidence ``1 + alpha * feedback``."""

    name = "als"

    def __init__(self, *, alpha: float = 10.0, **options) -> None:
        super().__init__(**options)
        self.alpha = alpha

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        with threadpool_limits(1, "blas"):  # implicit's own threads do the work; BLAS threads would fight them
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
            )
            model.fit(confidence_matrix(log), show_progress=False)
        self._keep(model.item_factors)
        return self


class BPR(_Factorisation):
    """Bayesian personalised ranking (Rendle et al. 2009): learns that a shopper's products outrank others."""

    name = "bpr"

    def __init__(
        self,
        *,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        iterations: int = 50,
        alpha: float = 10.0,
        **options,
    ) -> None:
        super().__init__(iterations=iterations, regularization=regularization, **options)
        self.learning_rate = learning_rate
        self.alpha = alpha  # of the fold-in, as ALS's

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        model = BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.seed,
        )
        with threadpool_limits(1, "blas"):
            model.fit(confidence_matrix(log), show_progress=False)
        # BPR's last column is the product's bias (its users' column is all ones): kept as a factor.
        self._keep(model.item_factors)
        return self
