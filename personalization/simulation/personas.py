"""Simulated shoppers' tastes, from the catalogue's METADATA only (never its photos or their embeddings).

A persona has a gender (it sees that gender's products and unisex ones), favourite article types, colours and
brands, a usage (casual, formal, sports, ethnic, party), a price band (a percentile of prices within an article
type: budget or premium whatever it buys) and how strongly it follows the season. Products have an appeal drawn
from the seed (Zipf-like: a few products are much more popular than the rest), and a season whose pull rises and
falls over the year. Outfits come from a fixed table of complementary article types by gender and usage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A catalogue column's value that means "unknown".
UNKNOWN = ""
UNISEX = "Unisex"

# Middle of each season (day of the year): a product of that season appeals most then, least half a year away.
SEASON_PEAK_DAY: dict[str, float] = {"Winter": 15.0, "Spring": 105.0, "Summer": 196.0, "Fall": 288.0}
DAYS_PER_YEAR = 365.2425

# Complete outfits: each slot is a choice of article types (one is viewed and perhaps bought per slot). Slots are
# top, bottom (none with a dress), footwear, accessory. Keyed by (gender, usage); a usage missing falls back to
# "Casual". Types absent from the catalogue are skipped.
Outfit = tuple[tuple[str, ...], ...]
_MEN_CASUAL: Outfit = (
    ("Tshirts", "Shirts", "Sweatshirts", "Jackets", "Sweaters"),
    ("Jeans", "Trousers", "Shorts"),
    ("Casual Shoes", "Sandals", "Flip Flops"),
    ("Watches", "Sunglasses", "Belts", "Wallets", "Caps", "Backpacks"),
)
_WOMEN_DRESS: Outfit = (
    ("Dresses",),
    ("Heels", "Flats", "Sandals"),
    ("Handbags", "Clutches", "Earrings", "Watches", "Necklace and Chains"),
)
_KIDS: Outfit = (
    ("Tshirts", "Shirts", "Tops"),
    ("Shorts", "Jeans", "Capris", "Skirts", "Leggings", "Trousers", "Track Pants"),
    ("Casual Shoes", "Sports Shoes", "Sandals", "Flats", "Flip Flops"),
    ("Watches", "Caps", "Backpacks"),
)
OUTFITS: dict[tuple[str, str], tuple[Outfit, ...]] = {
    ("Men", "Casual"): (_MEN_CASUAL,),
    ("Men", "Formal"): (
        (("Shirts",), ("Trousers",), ("Formal Shoes",), ("Ties", "Belts", "Cufflinks", "Watches", "Wallets")),
    ),
    ("Men", "Sports"): (
        (
            ("Tshirts", "Jackets", "Sweatshirts"),
            ("Shorts", "Track Pants"),
            ("Sports Shoes",),
            ("Socks", "Caps", "Backpacks", "Watches"),
        ),
    ),
    ("Men", "Ethnic"): ((("Kurtas",), ("Trousers",), ("Sandals", "Casual Shoes"), ("Watches",)),),
    ("Women", "Casual"): (
        (
            ("Tops", "Tshirts", "Shirts", "Tunics"),
            ("Jeans", "Skirts", "Shorts", "Capris", "Leggings", "Jeggings", "Trousers"),
            ("Heels", "Flats", "Casual Shoes", "Sandals", "Flip Flops"),
            ("Handbags", "Earrings", "Sunglasses", "Watches", "Clutches", "Pendant"),
        ),
        _WOMEN_DRESS,
    ),
    ("Women", "Formal"): ((("Shirts", "Tops"), ("Trousers", "Skirts"), ("Heels", "Flats"), ("Handbags", "Watches")),),
    ("Women", "Sports"): (
        (
            ("Tshirts", "Tops", "Sweatshirts", "Jackets"),
            ("Track Pants", "Capris", "Shorts", "Leggings"),
            ("Sports Shoes",),
            ("Socks", "Backpacks", "Caps", "Watches"),
        ),
    ),
    ("Women", "Ethnic"): (
        (
            ("Kurtas", "Kurtis", "Kurta Sets", "Sarees"),
            ("Leggings", "Patiala", "Salwar", "Churidar", "Dupatta"),
            ("Flats", "Heels", "Sandals"),
            ("Earrings", "Bangle", "Clutches", "Handbags", "Stoles"),
        ),
    ),
    ("Women", "Party"): (_WOMEN_DRESS,),
    ("Boys", "Casual"): (_KIDS,),
    ("Girls", "Casual"): (_KIDS, (("Dresses",), ("Sandals", "Flats"), ("Watches", "Backpacks"))),
}


@dataclass(frozen=True)
class Column:
    """A metadata column as integer codes into ``values`` (sorted; ``""`` is unknown)."""

    codes: np.ndarray  # int32, one per product
    values: np.ndarray  # object: the distinct strings

    @classmethod
    def of(cls, column: np.ndarray) -> Column:
        values, codes = np.unique(np.asarray(column, dtype=object).astype(str), return_inverse=True)
        return cls(codes.astype(np.int32), values.astype(object))

    def code(self, value: str) -> int:
        """The value's code, -1 when no product has it."""
        found = np.flatnonzero(self.values == value)
        return int(found[0]) if len(found) else -1

    def known(self) -> np.ndarray:
        """Per value: whether it is a real one (not unknown)."""
        return self.values != UNKNOWN


@dataclass(frozen=True)
class Catalogue:
    """What the simulator knows of the products: metadata codes, price percentile within the article type, stock.
    Built from a ``personalization.catalogue.CatalogueArrays`` by ``encode`` without touching its embeddings."""

    gender: Column
    article_type: Column
    base_colour: Column
    brand: Column
    usage: Column
    season: Column
    price: np.ndarray  # float64, NaN unknown
    price_band: np.ndarray  # int8, decile of the price within the article type (5 when unknown)
    buyable: np.ndarray  # bool: in stock with a price

    def __len__(self) -> int:
        return len(self.price)

    def eligible(self, gender: str) -> np.ndarray:
        """Product codes a shopper of this gender browses: the gender's and unisex ones."""
        return np.flatnonzero(np.isin(self.gender.values[self.gender.codes], [gender, UNISEX]))


def encode(attributes: dict[str, np.ndarray], price: np.ndarray, in_stock: np.ndarray) -> Catalogue:
    columns = {name: Column.of(attributes[name]) for name in ("gender", "article_type", "base_colour", "brand")}
    columns |= {name: Column.of(attributes[name]) for name in ("usage", "season")}
    price = np.asarray(price, dtype=np.float64)
    return Catalogue(
        **columns,
        price=price,
        price_band=_price_bands(columns["article_type"].codes, price),
        buyable=np.asarray(in_stock, dtype=bool) & ~np.isnan(price),
    )


def _price_bands(types: np.ndarray, price: np.ndarray, bands: int = 10) -> np.ndarray:
    """The decile of each product's price among its article type's (a premium watch and a premium sock both 9)."""
    known = ~np.isnan(price)
    result = np.full(len(price), bands // 2, dtype=np.int8)
    order = np.lexsort((np.where(known, price, 0.0), types, ~known))  # known prices first, by type, by price
    order = order[known[order]]
    sorted_types = types[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_types)) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    size = np.repeat(sizes, sizes)
    result[order] = np.minimum((rank * bands) // np.maximum(size, 1), bands - 1)
    return result


def product_appeal(products: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like appeal: a random ranking of the products (from the seed, not from any model or data), appeal
    ``rank ** -exponent``, so that a few products are far more popular than most."""
    ranks = rng.permutation(products).astype(np.float64) + 1.0
    return ranks**-exponent


def season_pull(season_codes: np.ndarray, seasons: np.ndarray, at: np.ndarray, sensitivity: np.ndarray) -> np.ndarray:
    """How much a product of its season appeals at time ``at`` (epoch seconds): ``1 + sensitivity`` at the season's
    peak, 1 from a quarter of a year away; an unknown season gets the year's average."""
    peak = np.array([SEASON_PEAK_DAY.get(str(value), np.nan) for value in seasons])[season_codes]
    day = np.mod(np.asarray(at) / 86_400.0, DAYS_PER_YEAR)  # 1 January 1970 is day 0: off by at most a day
    closeness = np.maximum(0.0, np.cos(2.0 * np.pi * (day - peak) / DAYS_PER_YEAR))
    closeness = np.where(np.isnan(peak), 1.0 / np.pi, closeness)
    return 1.0 + sensitivity * closeness


@dataclass(frozen=True)
class Personas:
    """One row per shopper. Codes index the catalogue's ``Column.values``; -1 pads a list with fewer favourites."""

    gender: np.ndarray  # int16, index into the shopper genders list
    article_types: np.ndarray  # int32 (shoppers, k)
    colours: np.ndarray  # int32 (shoppers, k)
    brands: np.ndarray  # int32 (shoppers, k)
    usage: np.ndarray  # int32
    price_band: np.ndarray  # float64 in [0, 9]: the preferred decile
    season_sensitivity: np.ndarray  # float64
    activity: np.ndarray  # float64, mean 1: how much more than average the shopper visits

    def __len__(self) -> int:
        return len(self.gender)


def draw_favourites(weights: np.ndarray, rows: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct codes per row, drawn with probability proportional to ``weights`` (Gumbel top-k); -1 pads
    rows when fewer than ``k`` codes have any weight."""
    if rows == 0 or k == 0:
        return np.full((rows, k), -1, dtype=np.int32)
    with np.errstate(divide="ignore"):
        keys = np.log(np.asarray(weights, dtype=np.float64))[None, :] + rng.gumbel(size=(rows, len(weights)))
    take = min(k, len(weights))
    top = np.argsort(-keys, axis=1)[:, :take]
    chosen = np.where(np.isfinite(np.take_along_axis(keys, top, axis=1)), top, -1).astype(np.int32)
    return np.pad(chosen, ((0, 0), (0, k - take)), constant_values=-1)


def counts_within(column: Column, products: np.ndarray) -> np.ndarray:
    """How many of ``products`` have each value of the column (unknown counts 0)."""
    counts = np.bincount(column.codes[products], minlength=len(column.values)).astype(np.float64)
    return np.where(column.known(), counts, 0.0)


def draw_personas(
    catalogue: Catalogue,
    genders: Sequence[str],
    gender: np.ndarray,
    *,
    favourites: tuple[int, int, int],
    season_boost: float,
    activity_sigma: float,
    rng: np.random.Generator,
) -> Personas:
    """Tastes for shoppers whose genders (indexes into ``genders``) are given. Favourite article types, colours,
    brands and the usage are drawn in proportion to how common they are among the products the shopper browses."""
    shoppers = len(gender)
    k_types, k_colours, k_brands = favourites
    types = np.full((shoppers, k_types), -1, dtype=np.int32)
    colours = np.full((shoppers, k_colours), -1, dtype=np.int32)
    brands = np.full((shoppers, k_brands), -1, dtype=np.int32)
    usage = np.full(shoppers, -1, dtype=np.int32)
    for index, name in enumerate(genders):
        rows = np.flatnonzero(gender == index)
        products = catalogue.eligible(name)
        types[rows] = draw_favourites(counts_within(catalogue.article_type, products), len(rows), k_types, rng)
        colours[rows] = draw_favourites(counts_within(catalogue.base_colour, products), len(rows), k_colours, rng)
        brands[rows] = draw_favourites(counts_within(catalogue.brand, products), len(rows), k_brands, rng)
        usage[rows] = draw_favourites(counts_within(catalogue.usage, products), len(rows), 1, rng)[:, 0]
    activity = rng.lognormal(-(activity_sigma**2) / 2.0, activity_sigma, shoppers)  # mean 1
    return Personas(
        gender=gender.astype(np.int16),
        article_types=types,
        colours=colours,
        brands=brands,
        usage=usage,
        price_band=9.0 * rng.beta(2.0, 2.0, shoppers),
        season_sensitivity=season_boost * rng.uniform(0.5, 1.5, shoppers),
        activity=activity,
    )


def outfits_for(gender: str, usage: str) -> tuple[Outfit, ...]:
    return OUTFITS.get((gender, usage)) or OUTFITS.get((gender, "Casual"), ())
