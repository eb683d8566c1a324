"""The interaction log as arrays: what training, the simulator and the offline evaluation share.

An ``EventLog`` holds one row per event (shopper, product, kind, time) as numpy arrays, with the shoppers' and
products' ids in the order their codes index. ``feedback_matrix`` turns it into the shoppers x products matrix of
weighted implicit feedback (a purchase counts most, a view least) that the collaborative algorithms learn from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# The kinds that say a shopper likes a product, in the order of their codes.
KINDS: tuple[str, ...] = ("view", "click", "wishlist_add", "cart_add", "purchase")
KIND_CODES: dict[str, int] = {kind: code for code, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class EventLog:
    """Events as parallel arrays. ``shopper`` and ``product`` are codes: ``shopper_ids[code]`` is the shopper's key
    (an account's id as "u<id>", else the visitor's uuid) and ``product_ids[code]`` the product's id."""

    shopper: np.ndarray  # int32 codes
    product: np.ndarray  # int32 codes
    kind: np.ndarray  # int8 codes of KINDS
    timestamp: np.ndarray  # float64, seconds since the epoch
    shopper_ids: np.ndarray  # object: keys
    product_ids: np.ndarray  # int64: product ids
    order: np.ndarray | None = None  # int64 order id of purchases, -1 for other events

    def __len__(self) -> int:
        return len(self.shopper)

    @property
    def shoppers(self) -> int:
        return len(self.shopper_ids)

    @property
    def products(self) -> int:
        return len(self.product_ids)

    def select(self, mask: np.ndarray) -> EventLog:
        """The events where ``mask`` is true, with the same codes (shoppers and products keep their indexes)."""
        return EventLog(
            shopper=self.shopper[mask],
            product=self.product[mask],
            kind=self.kind[mask],
            timestamp=self.timestamp[mask],
            shopper_ids=self.shopper_ids,
            product_ids=self.product_ids,
            order=None if self.order is None else self.order[mask],
        )

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[str, int, str, float] | tuple[str, int, str, float, int]],
        *,
        product_ids: Iterable[int] | None = None,
    ) -> EventLog:
        """From ``(shopper key, product id, kind, timestamp[, order id])`` rows; kinds outside ``KINDS`` are
        skipped. ``product_ids`` fixes the product codes (e.g. the whole catalogue); else the products seen."""
        rows = [row for row in rows if row[2] in KIND_CODES]
        shopper_ids, shopper = np.unique(np.array([row[0] for row in rows], dtype=object), return_inverse=True)
        seen = np.array([row[1] for row in rows], dtype=np.int64)
        if product_ids is None:
            catalogue, product = np.unique(seen, return_inverse=True)
        else:
            catalogue = np.asarray(list(product_ids), dtype=np.int64)
            index = {int(product_id): code for code, product_id in enumerate(catalogue)}
            product = np.array([index[int(product_id)] for product_id in seen], dtype=np.int64)
        has_orders = any(len(row) > 4 for row in rows)
        return cls(
            shopper=shopper.astype(np.int32),
            product=product.astype(np.int32),
            kind=np.array([KIND_CODES[row[2]] for row in rows], dtype=np.int8),
            timestamp=np.array([row[3] for row in rows], dtype=np.float64),
            shopper_ids=shopper_ids,
            product_ids=catalogue,
            order=np.array([row[4] if len(row) > 4 else -1 for row in rows], dtype=np.int64) if has_orders else None,
        )


def kind_weights(weights: Mapping[str, float]) -> np.ndarray:
    """``{"purchase": 8, ...}`` as an array indexed by kind code (kinds not named weigh 0)."""
    return np.array([float(weights.get(kind, 0.0)) for kind in KINDS], dtype=np.float32)


def feedback_matrix(log: EventLog, weights: Mapping[str, float]) -> sparse.csr_matrix:
    """Shoppers x products, each cell the sum of the weights of what the shopper did with the product."""
    values = kind_weights(weights)[log.kind]
    matrix = sparse.csr_matrix(
        (values, (log.shopper, log.product)), shape=(log.shoppers, log.products), dtype=np.float32
    )
    matrix.eliminate_zeros()
    return matrix
