"""The baselines: popularity (the trending strategy's time-decayed weighted counts, the same for everyone) and
random."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Self

import numpy as np

from ..catalogue import CatalogueArrays
from ..interactions import EventLog, kind_weights
from .base import Algorithm

DEFAULT_TRENDING_WEIGHTS = {"view": 1.0, "cart_add": 3.0, "purchase": 5.0}


class Popularity(Algorithm):
    """Each event weighs its kind's weight, halved every ``half_life_hours`` before the newest event."""

    name = "popularity"

    def __init__(self, weights: Mapping[str, float] | None = None, half_life_hours: float = 72.0) -> None:
        self.weights = dict(weights or DEFAULT_TRENDING_WEIGHTS)
        self.half_life_hours = half_life_hours
        self.scores: np.ndarray = np.zeros(0)

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        now = float(log.timestamp.max()) if len(log) else 0.0
        decay = np.exp(-math.log(2) * (now - log.timestamp) / (self.half_life_hours * 3600))
        weights = kind_weights(self.weights)[log.kind] * decay
        self.scores = np.bincount(log.product, weights=weights, minlength=log.products).astype(np.float32)
        return self

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores, (len(shoppers), len(self.scores))).copy()


class Random(Algorithm):
    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.products = 0
        self.rng = np.random.default_rng(seed)

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        self.products = log.products
        self.rng = np.random.default_rng(self.seed)
        return self

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        return self.rng.random((len(shoppers), self.products), dtype=np.float32)
