"""The interface every algorithm has: ``fit`` on a log, then ``score`` every product for some shoppers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

import numpy as np

from ..catalogue import CatalogueArrays
from ..interactions import EventLog


class Algorithm(ABC):
    """Fitted once on the training log (``fit``), then asked for scores over the whole catalogue (``score``).

    ``score`` gets a log that holds the asked shoppers' own events (the training log itself offline; a visitor's
    latest events at request time, as shopper code 0), with the product codes of the catalogue it was fitted on,
    so that every algorithm folds a shopper in from their history and the list changes after the next click.
    Higher is better; products an algorithm knows nothing of score ``-inf``.
    """

    name: ClassVar[str] = ""

    @abstractmethod
    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self: ...

    @abstractmethod
    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        """A ``len(shoppers)`` x products array of scores."""


def history_rows(history: EventLog, shoppers: np.ndarray) -> list[np.ndarray]:
    """For each asked shopper, the indexes of their events in ``history``, oldest first."""
    order = np.lexsort((history.timestamp, history.shopper))
    sorted_shoppers = history.shopper[order]
    starts = np.searchsorted(sorted_shoppers, shoppers, side="left")
    ends = np.searchsorted(sorted_shoppers, shoppers, side="right")
    return [order[start:end] for start, end in zip(starts, ends, strict=True)]
