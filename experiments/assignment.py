"""Which variant a visitor gets: a pure function of the experiment's salt, the visitor and the traffic shares."""

import hashlib
from collections.abc import Sequence

BUCKETS = 10_000


def bucket(salt: str, unit: str) -> int:
    """The visitor's bucket in [0, BUCKETS): uniform, stable, and independent between experiments (salts)."""
    digest = hashlib.sha256(f"{salt}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose(weights: Sequence[int], salt: str, unit: str) -> int:
    """The index of the variant whose share of the buckets holds the visitor's bucket."""
    total = sum(weights)
    point = bucket(salt, unit) * total / BUCKETS
    upper = 0
    for index, weight in enumerate(weights):
        upper += weight
        if point < upper:
            return index
    return len(weights) - 1
