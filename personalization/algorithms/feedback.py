"""Implicit feedback as the collaborative algorithms see it: a purchase says more than a view."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import sparse

from ..interactions import EventLog, feedback_matrix

DEFAULT_FEEDBACK_WEIGHTS: dict[str, float] = {
    "purchase": 8.0,
    "cart_add": 4.0,
    "wishlist_add": 3.0,
    "click": 2.0,
    "view": 1.0,
}


def confidence_matrix(
    log: EventLog, weights: Mapping[str, float] | None = None, shoppers: np.ndarray | None = None
) -> sparse.csr_matrix:
    """Shoppers x products, ``log(1 + Σ weights)``: repeated views add up, but slower than a purchase.

    With ``shoppers``, only their rows, in that order.
    """
    matrix = feedback_matrix(log, weights or DEFAULT_FEEDBACK_WEIGHTS)
    matrix.data = np.log1p(matrix.data)
    return matrix if shoppers is None else matrix[shoppers]


def normalise_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms).dot(matrix).tocsr().astype(np.float32)
