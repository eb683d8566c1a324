"""Simulated shoppers: seeded, metadata-driven histories of views, clicks, wishlists, cart adds and orders.

SIMULATED DATA. No public interaction log exists for this catalogue, so demos and the offline evaluation run on
histories made here. Personas prefer metadata only (gender, article types, colours, brands, price band, usage,
season); the image embeddings are never read, or the visual strategy would win by construction. The parameters
below were fixed before any strategy was scored on the result (docs/simulation.md); they are not to be tuned to
make a strategy win.

``simulate`` is pure (numpy only, no database): ``writer.write_history`` stores its result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from personalization.interactions import KIND_CODES, EventLog

from .personas import Catalogue, Personas, draw_personas, encode, product_appeal
from .sampling import Browsable, Fit, draw_among, draw_in_types
from .sessions import CHECKOUT_SECONDS, OUTFIT, PLANTED_TYPE, Plan, plan_sessions

if TYPE_CHECKING:
    from personalization.catalogue import CatalogueArrays

DEFAULT_PLANT: dict[str, str] = {"base_colour": "Red", "article_type": "Dresses"}
# The columns a planted preference may name (never the image or its embedding).
PLANTABLE = ("gender", "master_category", "sub_category", "article_type", "base_colour", "season", "usage", "brand")
# What the simulator reads of the catalogue: nothing else.
READ_ATTRIBUTES = ("gender", "article_type", "base_colour", "brand", "usage", "season")

VIEW, CLICK, WISHLIST, CART, PURCHASE = (
    KIND_CODES[kind] for kind in ("view", "click", "wishlist_add", "cart_add", "purchase")
)
# Seconds between a view and the click that led to it, the wishlist add and the cart add that follow it.
CLICK_LEAD, WISHLIST_LAG, CART_LAG = 1.0, 8.0, 15.0


@dataclass(frozen=True)
class PlantedPreference:
    """A taste planted in a share of the shoppers, which the offline evaluation checks is recovered."""

    share: float = 0.02  # of shoppers
    attributes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PLANT))  # all must match


@dataclass(frozen=True)
class SimulationConfig:
    """Every behaviour parameter, with the value fixed before evaluation (docs/simulation.md lists them)."""

    shoppers: int = 20_000
    weeks: int = 8
    end: float | None = None  # epoch seconds of the last moment; None: now
    plant: PlantedPreference | None = None
    # Who shops: the share of shoppers of each gender (each browses its gender's products and unisex ones).
    genders: tuple[tuple[str, float], ...] = (("Men", 0.48), ("Women", 0.44), ("Boys", 0.04), ("Girls", 0.04))
    # How often: sessions per shopper per week on average, times a lognormal activity of mean 1 and this sigma.
    sessions_per_week: float = 0.75
    activity_sigma: float = 1.0
    # What a session looks at.
    outfit_share: float = 0.3  # sessions that shop an outfit (several complementary article types)
    outfit_slot_share: float = 0.8  # each slot of the outfit beyond the first (top, bottom, footwear, accessory)
    second_type_share: float = 0.25  # browse sessions that look at a second article type
    favourite_type_share: float = 0.6  # article types chosen among the persona's favourites
    planted_session_share: float = 0.5  # a planted shopper's sessions spent on the planted products
    views_per_type: float = 4.0  # mean views per article type in a session (geometric)
    seconds_between_events: float = 40.0  # mean (exponential)
    # What the shopper does with what they see.
    click_share: float = 0.7  # views reached from a list (a click is logged first)
    wishlist_rate: float = 0.06  # per article type looked at: one of the products viewed is wishlisted
    cart_rate: float = 0.15  # per article type in a browse session: the last in-stock product viewed is carted
    outfit_cart_rate: float = 0.6  # the same in an outfit session
    order_rate: float = 0.55  # sessions with something carted that end in an order
    max_order_lines: int = 4
    # The persona's tastes.
    favourite_types: int = 3
    favourite_colours: int = 2
    favourite_brands: int = 2
    colour_boost: float = 3.0  # a favourite colour multiplies a product's weight by this
    brand_boost: float = 3.0
    usage_boost: float = 2.0
    price_width: float = 2.0  # deciles: the persona's price band is a Gaussian of this width
    popularity_exponent: float = 0.7  # Zipf: the product ranked r (at random, from the seed) has appeal r ** -this
    season_boost: float = 1.5  # mean extra weight of an in-season product at its season's peak

    def validate(self) -> None:
        if self.shoppers < 1 or self.weeks < 1:
            raise ValueError("The simulation needs at least one shopper and one week.")
        rates = ("outfit_share", "outfit_slot_share", "second_type_share", "favourite_type_share")
        rates += ("planted_session_share", "click_share", "wishlist_rate", "cart_rate", "outfit_cart_rate")
        for name in (*rates, "order_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1.")
        if self.views_per_type < 1 or self.max_order_lines < 1 or self.sessions_per_week < 0:
            raise ValueError("views_per_type and max_order_lines must be at least 1, sessions_per_week positive.")
        if self.plant is not None and not 0.0 < self.plant.share <= 1.0:
            raise ValueError("The planted share must be above 0 and at most 1.")


@dataclass(frozen=True)
class SimulatedHistory:
    """What ``simulate`` made. ``log.order`` holds order codes (0, 1, ... in time order) of purchases, -1 for the
    other events; the writer gives the orders their database ids."""

    log: EventLog
    planted_shoppers: np.ndarray  # shopper codes given the planted preference (empty without one)
    planted_products: np.ndarray  # product codes that match the planted attributes

    @property
    def orders(self) -> int:
        return int(self.log.order.max()) + 1 if self.log.order is not None and len(self.log) else 0


def simulate(catalogue: CatalogueArrays, config: SimulationConfig, seed: int) -> SimulatedHistory:
    """A seeded history on ``catalogue`` (same seed and config, same history). Reads the catalogue's metadata,
    prices and stock, never its embeddings."""
    config.validate()
    if len(catalogue.product_ids) == 0:
        raise ValueError("The catalogue is empty: there is nothing to shop for.")
    products = encode(
        {name: catalogue.attributes[name] for name in READ_ATTRIBUTES}, catalogue.price, catalogue.in_stock
    )
    end = float(config.end) if config.end is not None else time.time()
    personas_rng, appeal_rng, sessions_rng, views_rng, actions_rng = (
        np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(5)
    )
    genders, shares = _genders(products, config)
    browsable = [Browsable.of(products, gender) for gender in genders]
    planted_products = _planted_products(catalogue, config)

    shopper_gender = personas_rng.choice(len(genders), size=config.shoppers, p=shares)
    planted = np.zeros(config.shoppers, dtype=bool)
    if config.plant is not None:
        count = min(config.shoppers, max(1, round(config.plant.share * config.shoppers)))
        planted[personas_rng.choice(config.shoppers, size=count, replace=False)] = True
        planted_gender = _planted_gender(products, planted_products, genders)
        if planted_gender is not None:
            shopper_gender[planted] = planted_gender
    personas = draw_personas(
        products,
        genders,
        shopper_gender,
        favourites=(config.favourite_types, config.favourite_colours, config.favourite_brands),
        season_boost=config.season_boost,
        activity_sigma=config.activity_sigma,
        rng=personas_rng,
    )
    appeal = product_appeal(len(products), config.popularity_exponent, appeal_rng)
    plan = plan_sessions(products, personas, genders, browsable, planted, config, end, sessions_rng)
    viewed = _draw_views(products, personas, genders, browsable, appeal, plan, planted_products, config, views_rng)
    log = _act(products, plan, viewed, config, actions_rng)
    return SimulatedHistory(
        log=EventLog(
            shopper=log["shopper"].astype(np.int32),
            product=log["product"].astype(np.int32),
            kind=log["kind"].astype(np.int8),
            timestamp=log["timestamp"],
            shopper_ids=np.array([f"sim-{seed}-{n}" for n in range(config.shoppers)], dtype=object),
            product_ids=np.asarray(catalogue.product_ids, dtype=np.int64),
            order=log["order"],
        ),
        planted_shoppers=np.flatnonzero(planted),
        planted_products=planted_products,
    )


def _genders(products: Catalogue, config: SimulationConfig) -> tuple[list[str], np.ndarray]:
    """The shopper genders the catalogue has products for, with their shares (normalised)."""
    names, shares = [], []
    for name, share in config.genders:
        eligible = products.eligible(name)
        if share > 0 and len(eligible) and products.article_type.known()[products.article_type.codes[eligible]].any():
            names.append(name)
            shares.append(share)
    if not names:
        raise ValueError(f"No product is for any of the shoppers' genders ({', '.join(n for n, _ in config.genders)}).")
    return names, np.array(shares) / sum(shares)


def _planted_products(catalogue: CatalogueArrays, config: SimulationConfig) -> np.ndarray:
    if config.plant is None:
        return np.array([], dtype=np.int64)
    attributes = config.plant.attributes
    if not attributes:
        raise ValueError("A planted preference needs at least one attribute.")
    match = np.ones(len(catalogue.product_ids), dtype=bool)
    for name, value in attributes.items():
        if name not in PLANTABLE:
            raise ValueError(f"Cannot plant {name!r}: choose among {', '.join(PLANTABLE)}.")
        match &= np.asarray(catalogue.attributes[name], dtype=object) == value
    found = np.flatnonzero(match)
    if not len(found):
        wanted = ", ".join(f"{name}={value}" for name, value in attributes.items())
        raise ValueError(f"No product has {wanted}: nothing to plant.")
    return found.astype(np.int64)


def _planted_gender(products: Catalogue, planted_products: np.ndarray, genders: list[str]) -> int | None:
    """The shopper gender that most planted products are for (None when they are all unisex)."""
    values = products.gender.values[products.gender.codes[planted_products]]
    counts = [int((values == gender).sum()) for gender in genders]
    return int(np.argmax(counts)) if max(counts) > 0 else None


def _draw_views(
    products: Catalogue,
    personas: Personas,
    genders: list[str],
    browsable: list[Browsable],
    appeal: np.ndarray,
    plan: Plan,
    planted_products: np.ndarray,
    config: SimulationConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    fit = Fit(config.colour_boost, config.brand_boost, config.usage_boost, config.price_width)
    shopper, article_type = plan.view_shopper, plan.view_type
    viewed = np.empty(len(shopper), dtype=np.int64)
    is_planted = article_type == PLANTED_TYPE
    gender = personas.gender[shopper]
    for g in range(len(genders)):
        views = np.flatnonzero((gender == g) & ~is_planted)
        viewed[views] = draw_in_types(
            products,
            personas,
            browsable[g],
            appeal,
            fit,
            shopper[views],
            article_type[views],
            plan.view_time[views],
            rng,
        )
        views = np.flatnonzero((gender == g) & is_planted)
        if len(views):
            mine = np.intersect1d(planted_products, browsable[g].products)
            mine = mine if len(mine) else planted_products
            sensitivity = personas.season_sensitivity[shopper[views]]
            viewed[views] = draw_among(products, mine, appeal, plan.view_time[views], sensitivity, rng)
    return viewed


def _act(
    products: Catalogue, plan: Plan, viewed: np.ndarray, config: SimulationConfig, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Every event of the plan: views, the clicks before some, wishlist and cart adds per slot, orders per session;
    sorted by time."""
    view_shopper, view_time = plan.view_shopper, plan.view_time
    views = len(viewed)
    slots = len(plan.slot_session)
    slot_first = np.searchsorted(plan.view_slot, np.arange(slots), "left")
    slot_size = np.diff(np.r_[slot_first, views])

    clicked = np.flatnonzero(rng.random(views) < config.click_share)
    wished = slot_first + (rng.random(slots) * slot_size).astype(np.int64)
    wished = wished[rng.random(slots) < config.wishlist_rate]

    # The cart add of a slot: its last viewed product that can be bought (in stock, with a price).
    buyable_index = np.where(products.buyable[viewed], np.arange(views), -1)
    last_buyable = np.maximum.reduceat(buyable_index, slot_first) if views else np.array([], dtype=np.int64)
    outfit_slot = plan.session_kind[plan.slot_session] == OUTFIT
    rate = np.where(outfit_slot, config.outfit_cart_rate, config.cart_rate)
    carted = last_buyable[(rng.random(slots) < rate) & (last_buyable >= 0)]

    purchased, order_code, order_time = _orders(plan, viewed, carted, config, rng)

    def rows(index: np.ndarray, kind: int, at: np.ndarray, order: np.ndarray | None = None) -> dict[str, np.ndarray]:
        return {
            "shopper": view_shopper[index],
            "product": viewed[index],
            "kind": np.full(len(index), kind, dtype=np.int8),
            "timestamp": at,
            "order": np.full(len(index), -1, dtype=np.int64) if order is None else order,
        }

    parts = [
        rows(np.arange(views), VIEW, view_time),
        rows(clicked, CLICK, view_time[clicked] - CLICK_LEAD),
        rows(wished, WISHLIST, view_time[wished] + WISHLIST_LAG),
        rows(carted, CART, view_time[carted] + CART_LAG),
        rows(purchased, PURCHASE, order_time, order_code),
    ]
    merged = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    order = np.lexsort((merged["kind"], merged["timestamp"]))
    return {name: column[order] for name, column in merged.items()}


def _orders(
    plan: Plan, viewed: np.ndarray, carted: np.ndarray, config: SimulationConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(view index, order code, time) of each purchase: a session with cart adds ends in an order with probability
    ``order_rate``, of its distinct carted products (at most ``max_order_lines``), after its last view."""
    session = plan.view_session[carted]
    sessions = np.unique(session)
    ordering = sessions[rng.random(len(sessions)) < config.order_rate]
    lines = carted[np.isin(session, ordering)]
    if not len(lines):
        return lines, np.array([], dtype=np.int64), np.array([], dtype=np.float64)
    line_session = plan.view_session[lines]
    # One line per product per session, the first carted; then the first max_order_lines of each session.
    _, first = np.unique(np.stack([line_session, viewed[lines]]), axis=1, return_index=True)
    lines = lines[np.sort(first)]
    line_session = plan.view_session[lines]
    starts = np.searchsorted(line_session, line_session, "left")
    lines = lines[np.arange(len(lines)) - starts < config.max_order_lines]
    line_session = plan.view_session[lines]
    last_view = np.searchsorted(plan.view_session, line_session, "right") - 1
    at = plan.view_time[last_view] + CHECKOUT_SECONDS
    # Order codes in the order the orders were placed.
    placed_sessions, index = np.unique(line_session, return_inverse=True)
    rank = np.argsort(np.argsort(plan.session_start[placed_sessions], kind="stable"), kind="stable")
    return lines, rank[index].astype(np.int64), at
