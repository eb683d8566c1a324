"""Generations: one number per kind of data that cached values are computed from.

A reader puts the current generation into its cache key (or Django's ``version``). A writer bumps it when its
transaction commits, and from then on every process that shares the cache computes those values again: one change
invalidates all of them at once, with nothing looked up or deleted (the old entries expire unread).
"""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

# What products exist, their descriptions, prices and brands: the navigation, facet counts and similar items.
CATALOGUE = "catalogue"
# Which products are in stock (``Product.in_stock``): lists narrowed to products in stock.
AVAILABILITY = "availability"


def _key(name: str) -> str:
    return f"generation:{name}"


def current(name: str) -> int:
    """The generation of ``name``'s data now."""
    key = _key(name)
    value = cache.get(key)
    if value is None:
        # Never set, or evicted: start from the clock, above any number it held before, so that no value cached
        # under an old number is taken for a current one.
        cache.add(key, time.time_ns(), timeout=None)
        value = cache.get(key, time.time_ns())  # the cache unreachable: a number nothing is cached under
    return value


def bump(name: str) -> None:
    """Invalidate what was cached from ``name``'s data, once the current transaction commits (at once outside one).

    Not before: a reader that ran meanwhile read the old rows, and must have cached them under the old number.
    Called many times in one transaction (a bulk delete), it bumps once. A failure to reach the cache is logged and
    does not undo the commit."""
    connection = transaction.get_connection()
    pending = connection.__dict__.setdefault("generations_to_bump", {})
    waiting = pending.get(name)
    if waiting is not None and not waiting.done and any(entry[1] is waiting for entry in connection.run_on_commit):
        return
    pending[name] = waiting = _Bump(name)
    transaction.on_commit(waiting, robust=True)


class _Bump:
    """The on-commit callback of ``bump``, which knows whether it has run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = False
        self.__qualname__ = f"generations.bump({name!r})"  # what Django logs when a robust callback fails

    def __call__(self) -> None:
        self.done = True
        key = _key(self.name)
        try:
            cache.incr(key)
        except ValueError:  # not set, or evicted: a number from the clock is as new as one more
            cache.add(key, time.time_ns(), timeout=None)


class HeldPerGeneration(Generic[T]):
    """A value computed from ``name``'s data and held in this process until the generation changes: for what every
    page reads (the navigation), where fetching and unpickling it from the shared cache each time would cost more.

    ``compute(generation)`` is called once per generation (and per process); it may read and fill the shared cache.
    """

    def __init__(self, name: str, compute: Callable[[int], T]) -> None:
        self.name = name
        self.compute = compute
        self._held: tuple[int, T] | None = None

    def get(self) -> T:
        generation = current(self.name)
        held = self._held  # one read: another thread may replace it meanwhile, with a value as good
        if held is None or held[0] != generation:
            held = (generation, self.compute(generation))
            self._held = held
        return held[1]
