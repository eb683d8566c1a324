"""The hybrid: candidates from every other algorithm, ranked by a learnt model on features from all of them.

``fit`` holds out each shopper's last session, fits the other algorithms on the rest, and learns (gradient-boosted
trees) which of their candidates the shoppers went on to take, from the candidates' scores (also against the
shopper's best in each algorithm) and ranks, popularity, price against the shopper's usual price, the product's
age and how much of the shopper's history was in the product's gender and article type. It serves with the
algorithms it learnt on, so that the scores it reads are those it learnt from (shoppers are folded in from their
whole history, last visit included). When it scores, the fixed weighted blend of the candidates' reciprocal ranks
first keeps each shopper's ``reranked`` best candidates, and the learnt model orders those: the trees run over a
quarter of the rows, and the validation seed ranked better so. With too few held-out successes to learn from, it
fits the algorithms on the whole log and ranks by the blend alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Self

import numpy as np
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier

from ..catalogue import CatalogueArrays
from ..interactions import EventLog
from .base import Algorithm, history_rows
from .content import ContentProfile, price_deciles, segment_values
from .matrix_factorization import ALS
from .neighbours import ItemKNN, UserKNN
from .popularity import Popularity
from .threads import single_threaded

SOURCES: dict[str, Callable[[], Algorithm]] = {
    "als": ALS,
    "item_knn": ItemKNN,
    "user_knn": UserKNN,
    "content": ContentProfile,
    "popularity": Popularity,
}
# The blend's weight per source.
BLEND_WEIGHTS: dict[str, float] = {"als": 1.0, "item_knn": 1.0, "user_knn": 0.8, "content": 0.8, "popularity": 0.3}
MISSING_RANK = 1000.0
# How much of the shopper's history was in the candidate's value of these attributes ("+": of both at once).
SEGMENT_FEATURES: tuple[str, ...] = (
    "gender",
    "article_type",
    "base_colour",
    "brand",
    "usage",
    "article_type+base_colour",
    "article_type+brand",
)
# Popularity, price, age, history length, the price decile and its distance to the shopper's, popularity within the
# article type, the share of the shopper's visits with the article type, whether their last visit had it, how many
# visits they made and how likely their next visit is to have it.
CONTEXT_FEATURES = 11 + len(SEGMENT_FEATURES)
# Each source gives a candidate's score, its rank and its score over the shopper's best in that source.
FEATURES_PER_SOURCE = 3
# Shoppers scored at once: each source's scores for a chunk take CHUNK x products floats.
CHUNK = 256


def split_latest(log: EventLog, gap_seconds: float, minimum_events: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks (earlier, latest) over the log: each shopper's last session (no gap over ``gap_seconds`` between its
    events) is the latest, for shoppers with ``minimum_events`` or more before it; everything else is earlier.
    What the ranker learns to predict is what the storefront asks of it: the next visit's products."""
    order = np.lexsort((log.timestamp, log.shopper))
    shopper = log.shopper[order].astype(np.int64)
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (shopper[1:] != shopper[:-1]) | (np.diff(log.timestamp[order]) > gap_seconds)
    last_start = np.full(log.shoppers, -1, dtype=np.int64)
    np.maximum.at(last_start, shopper[starts], np.flatnonzero(starts))
    in_last = np.arange(len(order)) >= last_start[shopper]
    before = np.bincount(shopper[~in_last], minlength=log.shoppers)
    latest = np.zeros(len(log), dtype=bool)
    latest[order] = in_last & (before[shopper] >= minimum_events)
    return ~latest, latest


class Hybrid(Algorithm):
    name = "hybrid"

    def __init__(
        self,
        *,
        candidates: int = 100,
        session_gap_seconds: float = 30 * 60,
        minimum_events: int = 5,
        training_shoppers: int = 8000,
        reranked: int = 100,
        minimum_positives: int = 100,
        negatives_per_shopper: int = 30,
        seed: int = 0,
        sources: dict[str, Callable[[], Algorithm]] | None = None,
    ) -> None:
        self.candidate_count = candidates
        self.reranked = reranked
        self.session_gap_seconds = session_gap_seconds
        self.minimum_events = minimum_events
        self.training_shoppers = training_shoppers
        self.minimum_positives = minimum_positives
        self.negatives_per_shopper = negatives_per_shopper
        self.seed = seed
        self.source_factories = dict(sources or SOURCES)
        self.sources: dict[str, Algorithm] = {}
        self.model: HistGradientBoostingClassifier | None = None
        self.catalogue: CatalogueArrays | None = None
        self.fit_seconds: dict[str, float] = {}
        self.learnt_from = 0
        self.segment_codes: dict[str, np.ndarray] = {}
        self.price_decile = np.zeros(0, dtype=np.float32)
        self.type_popularity = np.zeros(0, dtype=np.float32)
        self.type_transitions = np.zeros((0, 0), dtype=np.float32)

    @property
    def learnt(self) -> bool:
        return self.model is not None

    def fit(self, log: EventLog, catalogue: CatalogueArrays) -> Self:
        self.catalogue = catalogue
        self._fit_ranker(log, catalogue)
        if not self.learnt:
            self.sources = self._fit_sources(log, catalogue)
        return self

    def _fit_sources(self, log: EventLog, catalogue: CatalogueArrays) -> dict[str, Algorithm]:
        self._fit_product_features(log, catalogue)
        fitted = {}
        for name, factory in self.source_factories.items():
            started = time.perf_counter()
            fitted[name] = factory().fit(log, catalogue)
            self.fit_seconds[name] = time.perf_counter() - started  # the last fit's: the one served
        return fitted

    def _fit_product_features(self, log: EventLog, catalogue: CatalogueArrays) -> None:
        """What the features read of each product: its segments' codes, its price decile within its article type,
        and its popularity against its type's (log(1 + events) less the type's mean), from the log the sources
        learn from."""
        self.segment_codes = {}
        for name in SEGMENT_FEATURES:
            values, codes = np.unique(segment_values(catalogue, name), return_inverse=True)
            self.segment_codes[name] = np.where(values[codes] == "", -1, codes).astype(np.int64)
        self.price_decile = price_deciles(catalogue)
        counts = np.log1p(np.bincount(log.product, minlength=len(catalogue)).astype(np.float64))
        types = np.unique(catalogue["article_type"].astype(str), return_inverse=True)[1]
        mean = np.bincount(types, weights=counts) / np.maximum(np.bincount(types), 1)
        self.type_popularity = (counts - mean[types]).astype(np.float32)
        self.type_transitions = type_transitions(log, self.segment_codes["article_type"], self.session_gap_seconds)

    def _fit_ranker(self, log: EventLog, catalogue: CatalogueArrays) -> None:
        earlier, latest = split_latest(log, self.session_gap_seconds, self.minimum_events)
        self.model = None
        self.learnt_from = 0
        asked = np.unique(log.shopper[latest])
        if len(asked) == 0:
            return
        rng = np.random.default_rng(self.seed)
        if len(asked) > self.training_shoppers:
            asked = np.sort(rng.choice(asked, self.training_shoppers, replace=False))
        # Only the learning shoppers' last visits leave the log the sources learn from: every other shopper's
        # whole history stays, the newest visits above all, which trending and the fold-ins need.
        latest &= np.isin(log.shopper, asked)
        earlier = ~latest
        history = log.select(earlier)
        self.sources = self._fit_sources(history, catalogue)
        held = log.select(latest)
        taken = [set(held.product[rows].tolist()) for rows in history_rows(held, asked)]
        features, codes, groups = self._candidates(history, asked, taken)
        labels = np.array([code in taken[group] for code, group in zip(codes, groups, strict=True)])
        self.learnt_from = int(labels.sum())
        if self.learnt_from < self.minimum_positives or labels.all():
            return
        model = HistGradientBoostingClassifier(
            max_iter=400, learning_rate=0.05, min_samples_leaf=100, l2_regularization=1.0, random_state=0
        )
        with single_threaded():
            self.model = model.fit(features, labels)

    def _candidates(
        self, history: EventLog, shoppers: np.ndarray, positives: list[set[int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features of the union of every source's top candidates (products the shopper already has excluded),
        with each row's product code and the index of its shopper in ``shoppers``. With ``positives`` (learning),
        every positive candidate is kept and a sample of ``negatives_per_shopper`` others."""
        rng = np.random.default_rng(self.seed)
        parts = []
        for start in range(0, len(shoppers), CHUNK):
            chunk = slice(start, start + CHUNK)
            features, codes, groups = self._candidate_chunk(
                history, shoppers[chunk], None if positives is None else positives[chunk], rng
            )
            parts.append((features, codes, groups + start))
        if not parts:
            width = FEATURES_PER_SOURCE * len(self.sources) + CONTEXT_FEATURES
            return np.zeros((0, width)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]

    def _candidate_chunk(
        self, history: EventLog, shoppers: np.ndarray, positives: list[set[int]] | None, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.catalogue is not None
        scores = {name: source.score(history, shoppers) for name, source in self.sources.items()}
        rows = history_rows(history, shoppers)
        all_features, all_codes, all_groups = [], [], []
        popularity = scores["popularity"][0] if "popularity" in scores else None  # the same for every shopper
        price = np.log1p(np.nan_to_num(self.catalogue.price, nan=0.0))
        added = np.nan_to_num(self.catalogue.added, nan=np.nanmin(self.catalogue.added, initial=0.0))
        now = float(history.timestamp.max()) if len(history) else 0.0
        for index, events in enumerate(rows):
            seen = np.unique(history.product[events])
            tops, ranks, bests = [], [], []
            for table in scores.values():
                negated = -table[index]  # one pass over the catalogue per source: this runs in every request
                negated[seen] = np.inf
                count = min(self.candidate_count, len(negated))  # a catalogue smaller than the candidates asked
                top = np.argpartition(negated, count - 1)[:count]
                top = top[np.isfinite(negated[top])]
                top = top[np.argsort(negated[top], kind="stable")]
                rank = np.full(len(negated), MISSING_RANK)
                rank[top] = np.arange(1, len(top) + 1)
                tops.append(top)
                ranks.append(rank)
                bests.append(np.float64(-negated[top[0]]) if len(top) and negated[top[0]] < 0 else 1.0)
            candidates = np.unique(np.concatenate(tops)).astype(np.int64)
            if positives is not None:
                candidates = self._sample(candidates, positives[index], rng)
            if len(candidates) == 0:
                continue
            columns = []
            for table, rank, best in zip(scores.values(), ranks, bests, strict=True):
                columns.append(table[index][candidates])
                columns.append(rank[candidates])
                # against the shopper's best in that source: scores' scales differ between shoppers and models
                columns.append(table[index][candidates] / best)
            columns.extend(self._context_features(history, events, candidates, price, added, now, popularity))
            all_features.append(np.column_stack(columns))
            all_codes.append(candidates)
            all_groups.append(np.full(len(candidates), index))
        if not all_features:
            width = FEATURES_PER_SOURCE * len(scores) + CONTEXT_FEATURES
            return np.zeros((0, width)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.vstack(all_features), np.concatenate(all_codes), np.concatenate(all_groups)

    def _sample(self, candidates: np.ndarray, positives: set[int], rng: np.random.Generator) -> np.ndarray:
        hit = np.isin(candidates, np.fromiter(positives, dtype=np.int64, count=len(positives)))
        others = candidates[~hit]
        if len(others) > self.negatives_per_shopper:
            others = rng.choice(others, self.negatives_per_shopper, replace=False)
        return np.sort(np.concatenate((candidates[hit], others)))

    def _context_features(self, history, events, candidates, price, added, now, popularity) -> list[np.ndarray]:
        products = history.product[events]
        usual_price = float(np.median(price[products])) if len(products) else 0.0
        decile = self.price_decile[candidates]
        with np.errstate(invalid="ignore"):  # a history without prices: NaN, which the trees treat as missing
            usual_decile = np.nanmean(self.price_decile[products]) if len(products) else np.nan
        types = self.segment_codes["article_type"]
        features = [
            np.log1p(np.maximum(popularity[candidates], 0.0)) if popularity is not None else np.zeros(len(candidates)),
            price[candidates] - usual_price,
            (now - added[candidates]) / 86400.0,
            np.full(len(candidates), np.log1p(len(events))),
            decile,
            decile - usual_decile,
            self.type_popularity[candidates],
            *self._visit_features(history, events, types[candidates], types[products]),
        ]
        for attribute in SEGMENT_FEATURES:
            codes = self.segment_codes[attribute]
            features.append(_shares(codes[products], codes[candidates]))
        return features

    def _visit_features(self, history, events, candidate_types, types) -> list[np.ndarray]:
        """The share of the shopper's visits that had each candidate's article type, whether their last did, how
        many visits they made, and how likely a visit after theirs is to have that type (``type_transitions``)."""
        if not len(events):
            zeros = np.zeros(len(candidate_types))
            return [zeros, zeros, zeros, zeros]
        visit = np.cumsum(np.r_[0, np.diff(history.timestamp[events]) > self.session_gap_seconds])
        visits = int(visit[-1]) + 1
        pairs = np.unique(visit.astype(np.int64) * (types.max() + 2) + types + 1)
        visited_types = pairs % (types.max() + 2) - 1
        in_visits = _shares(visited_types, candidate_types) * len(visited_types) / visits
        last = np.isin(candidate_types, types[visit == visit[-1]]).astype(np.float64)
        known = visited_types[visited_types >= 0]
        following = np.bincount(known, minlength=len(self.type_transitions)) @ self.type_transitions / visits
        next_visit = np.where(candidate_types >= 0, following[candidate_types], 0.0)
        return [in_visits, last, np.full(len(candidate_types), np.log(visits)), next_visit]

    def score(self, history: EventLog, shoppers: np.ndarray) -> np.ndarray:
        assert self.catalogue is not None
        scores = np.full((len(shoppers), len(self.catalogue)), -np.inf, dtype=np.float32)
        features, codes, groups = self._candidates(history, shoppers)
        if len(codes) == 0:
            return scores
        ranked = self._blend(features)
        if self.model is not None:
            if self.reranked:
                keep = _best_per_group(ranked, groups, self.reranked)
                features, codes, groups = features[keep], codes[keep], groups[keep]
            with single_threaded():
                ranked = self.model.decision_function(features)  # the probability's order, without the sigmoid
        scores[groups, codes] = ranked
        return scores

    def _blend(self, features: np.ndarray) -> np.ndarray:
        total = np.zeros(len(features))
        for position, name in enumerate(self.sources):
            total += BLEND_WEIGHTS.get(name, 1.0) / (60.0 + features[:, FEATURES_PER_SOURCE * position + 1])
        return total


def _shares(mine: np.ndarray, asked: np.ndarray) -> np.ndarray:
    """For each code in ``asked``, its share of ``mine`` (codes; -1, unknown, is never shared)."""
    known = mine[mine >= 0]
    if not len(known) or not len(asked):
        return np.zeros(len(asked))
    values, counts = np.unique(known, return_counts=True)
    position = np.minimum(np.searchsorted(values, asked), len(values) - 1)
    return np.where(values[position] == asked, counts[position] / len(mine), 0.0)


def type_transitions(log: EventLog, types: np.ndarray, gap_seconds: float) -> np.ndarray:
    """Article types x article types: how often a shopper's visit had type b after earlier visits with type a,
    each of their visits' types counted as a share of their visits so far; rows sum to 1 (0 for a type never
    followed). ``types``: each product's type code, -1 unknown. Shoppers keep returning to their favourite types
    and shop outfits of complementary ones."""
    count = int(types.max()) + 1 if len(types) else 0
    order = np.lexsort((log.timestamp, log.shopper))
    shopper, kind = log.shopper[order], types[log.product[order]]
    starts = np.r_[True, (shopper[1:] != shopper[:-1]) | (np.diff(log.timestamp[order]) > gap_seconds)]
    visit = np.cumsum(starts) - 1
    known = kind >= 0
    visits = int(visit[-1]) + 1 if len(visit) else 0
    had = sparse.csr_matrix(
        (np.ones(int(known.sum()), dtype=np.float32), (visit[known], kind[known])), shape=(visits, count)
    )
    had.data[:] = 1.0
    had.sum_duplicates()
    had.data[:] = 1.0
    had = had.toarray()
    first = np.r_[True, shopper[starts][1:] != shopper[starts][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(visits), 0))
    totals = np.cumsum(had, axis=0)
    before = totals - had - np.where((start > 0)[:, None], totals[np.maximum(start - 1, 0)], 0.0)
    earlier = np.arange(visits) - start
    counts = (before / np.maximum(earlier, 1)[:, None]).T @ had
    sums = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, sums, out=np.zeros_like(counts), where=sums > 0)


def _best_per_group(values: np.ndarray, groups: np.ndarray, count: int) -> np.ndarray:
    """Indexes of the ``count`` highest ``values`` within each group (``groups`` ascending), in their order."""
    order = np.lexsort((-values, groups))
    starts = np.searchsorted(groups[order], groups[order], side="left")
    return np.sort(order[np.arange(len(order)) - starts < count])
