"""The shape of each simulated shopper's weeks: sessions at plausible times, each looking at one or more article
types ("slots"), several views per slot.

A session is one of three kinds: *browse* (one article type, sometimes a second: a favourite one or any the
shopper's gender has, in proportion to the catalogue), *outfit* (complementary types from the persona's outfit
table: a top, a bottom, footwear, an accessory) or *planted* (the planted products, for the planted shoppers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .personas import Catalogue, Personas, outfits_for
from .sampling import Browsable

if TYPE_CHECKING:
    from .simulator import SimulationConfig

BROWSE, OUTFIT, PLANTED = 0, 1, 2
PLANTED_TYPE = -1  # a slot's article type that stands for the planted products

DAY = 86_400.0
# Sessions are timed in India Standard Time (the shop sells in rupees): UTC + 5:30.
LOCAL_OFFSET = 19_800.0
# Relative share of sessions starting in each local hour: quiet at night, busier at lunch, busiest in the evening.
HOURLY = np.array(
    [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 6, 7, 8, 10, 11, 11, 9, 5], dtype=np.float64
)  # fmt: skip
WEEKEND = 1.3  # a Saturday or Sunday has this many times a weekday's sessions
# Seconds after a session's last view for its cart adds and checkout.
CHECKOUT_SECONDS = 90.0


@dataclass(frozen=True)
class Plan:
    session_shopper: np.ndarray  # int64, shopper-major
    session_kind: np.ndarray  # int8: BROWSE, OUTFIT or PLANTED
    session_start: np.ndarray  # float64 epoch seconds
    slot_session: np.ndarray  # int64, sorted
    slot_type: np.ndarray  # int64 article type code, PLANTED_TYPE for the planted products
    view_slot: np.ndarray  # int64, sorted
    view_time: np.ndarray  # float64 epoch seconds

    @property
    def view_session(self) -> np.ndarray:
        return self.slot_session[self.view_slot]

    @property
    def view_shopper(self) -> np.ndarray:
        return self.session_shopper[self.view_session]

    @property
    def view_type(self) -> np.ndarray:
        return self.slot_type[self.view_slot]


def pick_rows(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One column per row of a (rows x choices) weight matrix, with probability proportional to the weights."""
    sums = np.cumsum(weights, axis=1)
    targets = rng.random(len(weights)) * sums[:, -1]
    return np.minimum((sums <= targets[:, None]).sum(axis=1), weights.shape[1] - 1)


def _favourite_or_common(
    favourites: np.ndarray, counts: np.ndarray, share: float, rng: np.random.Generator
) -> np.ndarray:
    """An article type per row: one of the row's favourites with probability ``share``, else any, in proportion to
    ``counts`` (how many products the gender browses of each type)."""
    rows = len(favourites)
    common = rng.choice(len(counts), size=rows, p=counts / counts.sum())
    valid = (favourites >= 0).sum(axis=1)
    index = np.minimum((rng.random(rows) * valid).astype(np.int64), np.maximum(valid - 1, 0))
    favourite = favourites[np.arange(rows), index]
    use = (rng.random(rows) < share) & (valid > 0)
    return np.where(use, favourite, common)


def _outfit_tables(
    catalogue: Catalogue, genders: list[str], browsable: list[Browsable]
) -> dict[tuple[int, int], list[list[np.ndarray]]]:
    """Per (gender index, usage code): the outfits whose slots the catalogue can fill (at least two slots)."""
    tables: dict[tuple[int, int], list[list[np.ndarray]]] = {}
    for g, gender in enumerate(genders):
        counts = browsable[g].counts()
        for u, usage in enumerate(catalogue.usage.values):
            outfits = []
            for outfit in outfits_for(gender, str(usage)):
                slots = []
                for choices in outfit:
                    codes = np.array([catalogue.article_type.code(name) for name in choices])
                    codes = codes[codes >= 0]
                    codes = codes[counts[codes] > 0]
                    if len(codes):
                        slots.append(codes)
                if len(slots) >= 2:
                    outfits.append(slots)
            if outfits:
                tables[(g, u)] = outfits
    return tables


def _outfit_slots(
    sessions: np.ndarray,
    favourites: np.ndarray,
    outfit: list[np.ndarray],
    counts: np.ndarray,
    config: SimulationConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(session, rank, article type) of the slots of these outfit sessions: the first slot always, each other with
    probability ``outfit_slot_share``, at least two."""
    include = rng.random((len(sessions), len(outfit))) < config.outfit_slot_share
    include[:, 0] = True
    include[include.sum(axis=1) < 2, 1] = True
    parts = []
    for rank, choices in enumerate(outfit):
        rows = np.flatnonzero(include[:, rank])
        liked = (favourites[rows][:, :, None] == choices[None, None, :]).any(axis=1)
        use = (rng.random(len(rows)) < config.favourite_type_share) & liked.any(axis=1)
        weights = np.where(use[:, None], liked, counts[choices][None, :]).astype(np.float64)
        types = choices[pick_rows(weights, rng)]
        parts.append((sessions[rows], np.full(len(rows), rank), types))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]


def _session_times(sessions: int, duration: np.ndarray, config: SimulationConfig, end: float, rng) -> np.ndarray:
    """Start times over the ``weeks`` days up to ``end``: weekends busier, evenings busiest; a session that would
    end after ``end`` happens a day (or more) earlier."""
    days = config.weeks * 7
    last_day = np.floor((end + LOCAL_OFFSET) / DAY)
    first_day = last_day - days + 1
    weekday = (first_day + np.arange(days) + 3) % 7  # 1 January 1970 was a Thursday (Monday is 0)
    day_weights = np.where(weekday >= 5, WEEKEND, 1.0)
    day = rng.choice(days, size=sessions, p=day_weights / day_weights.sum())
    hour = rng.choice(24, size=sessions, p=HOURLY / HOURLY.sum())
    start = (first_day + day) * DAY + (hour + rng.random(sessions)) * 3600.0 - LOCAL_OFFSET
    overflow = np.maximum(0.0, start + duration - end)
    return start - np.ceil(overflow / DAY) * DAY


def plan_sessions(
    catalogue: Catalogue,
    personas: Personas,
    genders: list[str],
    browsable: list[Browsable],
    planted: np.ndarray,
    config: SimulationConfig,
    end: float,
    rng: np.random.Generator,
) -> Plan:
    shoppers = len(personas)
    per_shopper = np.maximum(1, rng.poisson(config.sessions_per_week * config.weeks * personas.activity))
    session_shopper = np.repeat(np.arange(shoppers), per_shopper)
    count = len(session_shopper)
    gender = personas.gender[session_shopper].astype(np.int64)
    usage = personas.usage[session_shopper].astype(np.int64)
    tables = _outfit_tables(catalogue, genders, browsable)
    has_outfit = np.zeros((len(genders), len(catalogue.usage.values) + 1), dtype=bool)  # usage -1: none known
    for g, u in tables:
        has_outfit[g, u] = True
    can_outfit = has_outfit[gender, usage]
    kind = np.full(count, BROWSE, dtype=np.int8)
    kind[(rng.random(count) < config.outfit_share) & can_outfit] = OUTFIT
    kind[planted[session_shopper] & (rng.random(count) < config.planted_session_share)] = PLANTED

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    browse = np.flatnonzero(kind == BROWSE)
    second = browse[rng.random(len(browse)) < config.second_type_share]
    for rank, sessions in enumerate((browse, second)):
        types = np.empty(len(sessions), dtype=np.int64)
        for g in range(len(genders)):
            rows = np.flatnonzero(gender[sessions] == g)
            counts = browsable[g].counts() * catalogue.article_type.known()
            favourites = personas.article_types[session_shopper[sessions[rows]]]
            types[rows] = _favourite_or_common(favourites, counts, config.favourite_type_share, rng)
        parts.append((sessions, np.full(len(sessions), rank), types))
    planted_sessions = np.flatnonzero(kind == PLANTED)
    parts.append(
        (
            planted_sessions,
            np.zeros(len(planted_sessions), dtype=np.int64),
            np.full(len(planted_sessions), PLANTED_TYPE),
        )
    )
    outfit_sessions = np.flatnonzero(kind == OUTFIT)
    choice = rng.random(len(outfit_sessions))
    for (g, u), outfits in tables.items():
        mine = outfit_sessions[(gender[outfit_sessions] == g) & (usage[outfit_sessions] == u)]
        picked = np.minimum(
            (choice[np.searchsorted(outfit_sessions, mine)] * len(outfits)).astype(int), len(outfits) - 1
        )
        for index, outfit in enumerate(outfits):
            sessions = mine[picked == index]
            favourites = personas.article_types[session_shopper[sessions]]
            parts.append(_outfit_slots(sessions, favourites, outfit, browsable[g].counts(), config, rng))

    slot_session, slot_rank, slot_type = (
        np.concatenate(column).astype(np.int64) for column in zip(*parts, strict=True)
    )
    order = np.lexsort((slot_rank, slot_session))
    slot_session, slot_type = slot_session[order], slot_type[order]

    views_per_slot = rng.geometric(1.0 / config.views_per_type, size=len(slot_session))
    view_slot = np.repeat(np.arange(len(slot_session)), views_per_slot)
    view_session = slot_session[view_slot]
    gaps = rng.exponential(config.seconds_between_events, size=len(view_slot))
    elapsed = np.cumsum(gaps)
    first_view = np.searchsorted(view_session, np.arange(count), "left")
    offset = elapsed - elapsed[first_view][view_session]
    duration = offset[np.searchsorted(view_session, np.arange(count), "right") - 1]
    start = _session_times(count, duration + CHECKOUT_SECONDS, config, end, rng)
    return Plan(
        session_shopper=session_shopper,
        session_kind=kind,
        session_start=start,
        slot_session=slot_session,
        slot_type=slot_type,
        view_slot=view_slot,
        view_time=start[view_session] + offset,
    )
