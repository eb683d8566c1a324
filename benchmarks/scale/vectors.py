"""Synthetic product vectors: real embeddings plus noise shaped like the catalogue's own spread.

A copy of a real product is ``normalise(v + scale * n)``, with ``n`` drawn from a normal distribution whose
covariance is the real embeddings' covariance (so that copies vary along the directions real products vary, not
in all 384 at once) and ``scale`` fitted so that the median cosine distance from a copy to its original equals
the median distance from a real product to its nearest real product that is not a duplicate of its picture.
"""

from dataclasses import dataclass

import numpy as np

SAMPLE = 2000


def normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def nearest_distances(queries: np.ndarray, vectors: np.ndarray, *, beyond: float, ranks: int = 10) -> np.ndarray:
    """Per query, the cosine distances to its ``ranks`` nearest vectors farther than ``beyond`` (duplicates and
    the query itself left out), nearest first."""
    distances = 1.0 - queries @ vectors.T
    distances[distances <= beyond] = np.inf
    return np.sort(np.partition(distances, ranks, axis=1)[:, :ranks], axis=1)


@dataclass(frozen=True)
class NoiseRecipe:
    shape: np.ndarray
    """(d, d): ``z @ shape.T`` has the real embeddings' covariance for standard normal ``z``."""
    scale: float
    target_distance: float
    """The median distance from a real product to its nearest real product that is not a duplicate."""
    achieved_distance: float
    """The median distance from a copy to its original, on a fresh sample."""

    @classmethod
    def fit(cls, real: np.ndarray, *, duplicate_distance: float, seed: int) -> "NoiseRecipe":
        rng = np.random.default_rng(seed)
        eigenvalues, eigenvectors = np.linalg.eigh(np.cov(real, rowvar=False))
        shape = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))).astype(np.float32)
        sample = real[rng.choice(len(real), min(SAMPLE, len(real)), replace=False)]
        target = float(np.median(nearest_distances(sample, real, beyond=duplicate_distance, ranks=1)[:, 0]))
        scale = 1.0
        # The distance grows about as the square of the scale: two corrections land on the target.
        for _ in range(3):
            scale *= np.sqrt(target / cls._median_distance(sample, shape, scale, rng))
        achieved = cls._median_distance(sample, shape, scale, rng)
        return cls(shape=shape, scale=float(scale), target_distance=target, achieved_distance=achieved)

    @staticmethod
    def _median_distance(originals: np.ndarray, shape: np.ndarray, scale: float, rng: np.random.Generator) -> float:
        copies = normalise(originals + scale * (rng.standard_normal(originals.shape, dtype=np.float32) @ shape.T))
        return float(np.median(1.0 - np.sum(copies * originals, axis=1)))

    def copies(self, originals: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """``noise``: standard normal, one row per original."""
        return normalise(originals + self.scale * (noise @ self.shape.T)).astype(np.float32)

    def describe(self) -> dict[str, float]:
        return {
            "scale": self.scale,
            "noise_norm": float(self.scale * np.sqrt(np.sum(self.shape**2))),
            "target_distance": self.target_distance,
            "achieved_distance": self.achieved_distance,
        }
