"""Which product each simulated view lands on: a draw within the view's article type (or among the planted
products), weighted by the product's appeal and how well it fits the shopper's persona, and by its season.

Weights are built once for each (shopper, article type) pair that the shopper's views need, a block of pairs at a
time as one flat array; one cumulative sum over the block turns every draw into one binary search. The season,
which changes with each view's time, is applied by rejection: several candidates per view, the first that its
season accepts wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .personas import Catalogue, Personas, season_pull

# A block's size in (shopper, product) cells: a few float64 and int64 arrays of this length at a time.
BLOCK_CELLS = 4_000_000
# Candidates per view for the season's rejection (the last is kept when none is accepted).
CANDIDATES = 4
# Least weight of a product far outside the shopper's price band: expensive things still get looked at.
PRICE_FLOOR = 0.05
PRICE_BANDS = 10


@dataclass(frozen=True)
class Fit:
    """How much a matching attribute multiplies a product's weight, and the price band's width (in deciles)."""

    colour: float
    brand: float
    usage: float
    price_width: float


@dataclass(frozen=True)
class Browsable:
    """The products a gender browses, grouped by article type: ``products[lo[t]:hi[t]]`` are of type ``t``."""

    products: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of(cls, catalogue: Catalogue, gender: str) -> Browsable:
        eligible = catalogue.eligible(gender)
        products = eligible[np.argsort(catalogue.article_type.codes[eligible], kind="stable")]
        types = catalogue.article_type.codes[products]
        every = np.arange(len(catalogue.article_type.values))
        return cls(products, np.searchsorted(types, every, "left"), np.searchsorted(types, every, "right"))

    def counts(self) -> np.ndarray:
        return (self.hi - self.lo).astype(np.float64)


def persona_weights(
    catalogue: Catalogue,
    personas: Personas,
    shoppers: np.ndarray,
    width: np.ndarray,
    products: np.ndarray,
    appeal: np.ndarray,
    fit: Fit,
) -> np.ndarray:
    """float64 weights of ``products``, a run of ``width[i]`` of them for ``shoppers[i]``: appeal x colour, brand
    and usage matches x closeness to the shopper's price band."""
    weights = appeal[products]
    local = np.repeat(np.arange(len(shoppers)), width)
    for column, favourites, boost in (
        (catalogue.base_colour, personas.colours, fit.colour),
        (catalogue.brand, personas.brands, fit.brand),
        (catalogue.usage, personas.usage[:, None], fit.usage),
    ):
        # Per shopper, a row of multipliers over the column's values: the boost on its favourites.
        values = len(column.values) + 1  # one more: where the -1 of a missing favourite lands
        table = np.ones((len(shoppers), values))
        table[np.arange(len(shoppers))[:, None], favourites[shoppers]] = boost
        weights *= table.ravel()[local * values + column.codes[products]]
    distance = (np.arange(PRICE_BANDS)[None, :] - personas.price_band[shoppers][:, None]) / fit.price_width
    band_weight = np.maximum(PRICE_FLOOR, np.exp(-0.5 * distance**2))
    weights *= band_weight.ravel()[local * PRICE_BANDS + catalogue.price_band[products]]
    return weights


def _season_choice(
    catalogue: Catalogue, candidates: np.ndarray, at: np.ndarray, sensitivity: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One product per row of ``candidates``: the first whose season accepts it at time ``at``."""
    pull = season_pull(catalogue.season.codes[candidates], catalogue.season.values, at[:, None], sensitivity[:, None])
    accepted = rng.random(candidates.shape) * (1.0 + sensitivity[:, None]) < pull
    pick = np.where(accepted.any(axis=1), accepted.argmax(axis=1), candidates.shape[1] - 1)
    return candidates[np.arange(len(candidates)), pick]


def draw_in_types(
    catalogue: Catalogue,
    personas: Personas,
    browsable: Browsable,
    appeal: np.ndarray,
    fit: Fit,
    shopper: np.ndarray,
    article_type: np.ndarray,
    at: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The product of each view (shopper, article type code, time), all shoppers of one gender."""
    result = np.empty(len(shopper), dtype=np.int64)
    if not len(shopper):
        return result
    # The (shopper, article type) pairs drawn from: the weights of their products are built once per pair.
    types = len(browsable.lo)
    pairs, view_pair = np.unique(shopper.astype(np.int64) * types + article_type, return_inverse=True)
    pair_shopper, pair_type = pairs // types, pairs % types
    sizes = browsable.hi[pair_type] - browsable.lo[pair_type]
    ends = np.cumsum(sizes)
    by_pair = np.argsort(view_pair, kind="stable")
    first = 0
    while first < len(pairs):
        # Pairs first..last (exclusive) make a block of at most BLOCK_CELLS products (one pair at least).
        last = max(first + 1, int(np.searchsorted(ends, ends[first] - sizes[first] + BLOCK_CELLS, "right")))
        block = slice(first, last)
        width = sizes[block]
        start = np.cumsum(width) - width
        position = np.arange(width.sum()) + np.repeat(browsable.lo[pair_type[block]] - start, width)
        products = browsable.products[position]
        sums = np.cumsum(persona_weights(catalogue, personas, pair_shopper[block], width, products, appeal, fit))
        sums0 = np.concatenate(([0.0], sums))
        lo_view, hi_view = np.searchsorted(view_pair[by_pair], [first, last], "left")
        views = by_pair[lo_view:hi_view]
        local = view_pair[views] - first
        lo, hi = start[local], start[local] + width[local]
        low, high = sums0[lo][:, None], sums0[hi][:, None]
        targets = low + (1.0 - rng.random((len(views), CANDIDATES))) * (high - low)  # in (low, high]
        cells = np.clip(np.searchsorted(sums, targets, "left"), lo[:, None], hi[:, None] - 1)
        result[views] = _season_choice(
            catalogue, products[cells], at[views], personas.season_sensitivity[shopper[views]], rng
        )
        first = last
    return result


def draw_among(
    catalogue: Catalogue,
    products: np.ndarray,
    appeal: np.ndarray,
    at: np.ndarray,
    sensitivity: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Views among a fixed set of products (the planted ones), by appeal and season."""
    sums = np.cumsum(appeal[products])
    targets = (1.0 - rng.random((len(at), CANDIDATES))) * sums[-1]
    candidates = products[np.minimum(np.searchsorted(sums, targets, "left"), len(products) - 1)]
    return _season_choice(catalogue, candidates, at, sensitivity, rng)
