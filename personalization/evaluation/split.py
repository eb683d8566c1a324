"""The time-based split: each test shopper's last session is held out.

A session is a run of a shopper's events with no gap longer than ``gap_seconds`` (30 minutes, as web analytics
count visits). A shopper is a test shopper when, before their last session, they have at least
``min_train_events`` events, and their last session touches at least one product that they had not touched
before: those new products are what they should be recommended (``relevant``). Products seen again in the last
session are not relevant: the ranking leaves a shopper's training products out, so they could never be found.
Every kind of event counts (a view as much as a purchase).

The test shoppers' last sessions leave the training log; everything else (every other shopper's whole history
included) stays in it, with the same shopper and product codes. Other shoppers' events later than a test shopper's
held-out session stay too, as in any per-shopper leave-last-out split: every algorithm sees the same log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..interactions import EventLog

SESSION_GAP_SECONDS = 30 * 60
MIN_TRAIN_EVENTS = 3


@dataclass(frozen=True)
class Split:
    train: EventLog
    test_shoppers: np.ndarray  # int32 shopper codes, ascending
    relevant: sparse.csr_matrix  # len(test_shoppers) x products, 1 for each held-out new product
    held_out_events: int

    @property
    def relevant_counts(self) -> np.ndarray:
        return np.diff(self.relevant.indptr)


def split_last_session(
    log: EventLog,
    *,
    gap_seconds: float = SESSION_GAP_SECONDS,
    min_train_events: int = MIN_TRAIN_EVENTS,
    max_test_shoppers: int | None = None,
    seed: int = 0,
) -> Split:
    """Hold out the last session of the shoppers who qualify (a seeded sample of ``max_test_shoppers`` of them)."""
    order = np.lexsort((log.timestamp, log.shopper))
    shopper = log.shopper[order].astype(np.int64)
    timestamp = log.timestamp[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (shopper[1:] != shopper[:-1]) | (np.diff(timestamp) > gap_seconds)
    last_start = np.full(log.shoppers, -1, dtype=np.int64)
    np.maximum.at(last_start, shopper[starts], np.flatnonzero(starts))
    in_last = np.arange(len(order)) >= last_start[shopper]

    train_events = np.bincount(shopper[~in_last], minlength=log.shoppers)
    candidate = train_events >= min_train_events
    held = candidate[shopper] & in_last
    product = log.product[order].astype(np.int64)
    keys = shopper * log.products + product
    # A pair is relevant when held out and absent from the shopper's earlier events.
    relevant_keys = np.setdiff1d(keys[held], keys[~in_last])
    test_shoppers = np.unique(relevant_keys // log.products)
    if max_test_shoppers is not None and len(test_shoppers) > max_test_shoppers:
        chosen = np.random.default_rng(seed).choice(len(test_shoppers), max_test_shoppers, replace=False)
        test_shoppers = np.sort(test_shoppers[chosen])
        relevant_keys = relevant_keys[np.isin(relevant_keys // log.products, test_shoppers)]

    is_test = np.zeros(log.shoppers, dtype=bool)
    is_test[test_shoppers] = True
    held_out = np.zeros(len(log), dtype=bool)
    held_out[order] = in_last & is_test[shopper]
    rows = np.searchsorted(test_shoppers, relevant_keys // log.products)
    relevant = sparse.csr_matrix(
        (np.ones(len(relevant_keys), dtype=np.float32), (rows, relevant_keys % log.products)),
        shape=(len(test_shoppers), log.products),
    )
    return Split(
        train=log.select(~held_out),
        test_shoppers=test_shoppers.astype(np.int32),
        relevant=relevant,
        held_out_events=int(held_out.sum()),
    )


def interacted(log: EventLog, shoppers: np.ndarray) -> sparse.csr_matrix:
    """``len(shoppers)`` x products, nonzero where the shopper has an event with the product in ``log``."""
    position = np.full(log.shoppers, -1, dtype=np.int64)
    position[shoppers] = np.arange(len(shoppers))
    rows = position[log.shopper]
    mask = rows >= 0
    matrix = sparse.csr_matrix(
        (np.ones(int(mask.sum()), dtype=np.float32), (rows[mask], log.product[mask])),
        shape=(len(shoppers), log.products),
    )
    matrix.sum_duplicates()
    return matrix
