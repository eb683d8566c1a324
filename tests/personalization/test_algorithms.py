"""The algorithms on a made-up shop whose shoppers each keep to one style: each must find the style (far above
random), fold a new shopper in from their history alone, and change its list after their next event."""

import numpy as np
import pytest

from personalization.algorithms.base import history_rows
from personalization.algorithms.content import ContentProfile, reduce_dimensions
from personalization.algorithms.hybrid import Hybrid, _best_per_group, split_latest
from personalization.algorithms.matrix_factorization import ALS, BPR
from personalization.algorithms.neighbours import ItemKNN, UserKNN
from personalization.algorithms.popularity import Popularity, Random
from personalization.interactions import EventLog

from .synthetic import STYLES, catalogue, log

PERSONAL = [ItemKNN, UserKNN, ALS, BPR, ContentProfile, Hybrid]


@pytest.fixture(scope="module")
def shop():
    arrays, style = catalogue()
    return arrays, style, log(arrays, style)


def style_share(algorithm, arrays, style, history: EventLog, shoppers: np.ndarray, k: int = 10) -> float:
    """The share of each shopper's top k (less what they already have) in their own style."""
    scores = algorithm.score(history, shoppers).astype(np.float64)
    shares = []
    for row, events in enumerate(history_rows(history, shoppers)):
        scores[row, history.product[events]] = -np.inf
        top = np.argsort(-scores[row])[:k]
        wanted = int(history.shopper_ids[shoppers[row]][1:]) % STYLES  # shopper "s<n>" keeps to style n % 8
        shares.append(float(np.mean(style[top] == wanted)))
    return float(np.mean(shares))


@pytest.mark.parametrize("algorithm", PERSONAL, ids=lambda cls: cls.__name__)
def test_each_personal_algorithm_finds_the_shoppers_style(shop, algorithm) -> None:
    arrays, style, events = shop
    fitted = algorithm().fit(events, arrays)
    shoppers = np.arange(40)
    assert style_share(fitted, arrays, style, events, shoppers) > 0.6
    # random would put 1 in 8 of its picks in the shopper's style
    assert style_share(Random().fit(events, arrays), arrays, style, events, shoppers) < 0.3


@pytest.mark.parametrize("algorithm", PERSONAL, ids=lambda cls: cls.__name__)
def test_a_new_shopper_is_folded_in_and_the_list_follows_their_next_event(shop, algorithm) -> None:
    arrays, style, events = shop
    fitted = algorithm().fit(events, arrays)
    style_3 = np.flatnonzero(style == 3)[:3]
    style_6 = np.flatnonzero(style == 6)[:6]
    first = EventLog.from_rows(
        [("newcomer", int(arrays.product_ids[code]), "view", float(i)) for i, code in enumerate(style_3)],
        product_ids=arrays.product_ids,
    )
    before = fitted.score(first, np.array([0]))[0]
    assert np.mean(style[np.argsort(-before)[:10]] == 3) > 0.5
    later = EventLog.from_rows(
        [("newcomer", int(arrays.product_ids[code]), "purchase", 10.0 + i) for i, code in enumerate(style_6)]
        + [("newcomer", int(arrays.product_ids[code]), "view", float(i)) for i, code in enumerate(style_3)],
        product_ids=arrays.product_ids,
    )
    after = fitted.score(later, np.array([0]))[0]
    assert not np.array_equal(np.argsort(-before)[:10], np.argsort(-after)[:10])
    assert np.mean(style[np.argsort(-after)[:10]] == 6) > np.mean(style[np.argsort(-before)[:10]] == 6)


def test_user_knn_does_not_count_the_shopper_as_their_own_neighbour(shop) -> None:
    arrays, _, events = shop
    fitted = UserKNN(neighbours=1).fit(events, arrays)
    scores = fitted.score(events, np.array([0]))[0]
    own = np.unique(events.product[events.shopper == 0])
    # Their single neighbour is someone else, who did not do exactly what they did.
    assert set(np.flatnonzero(scores > 0)) != set(own)


def test_popularity_decays_with_age() -> None:
    arrays, _ = catalogue(products=3)
    ids = arrays.product_ids
    events = EventLog.from_rows(
        [("a", int(ids[0]), "purchase", 0.0), ("b", int(ids[1]), "view", 72 * 3600.0), ("c", int(ids[2]), "view", 0.0)],
        product_ids=ids,
    )
    scores = Popularity(half_life_hours=72).fit(events, arrays).scores
    # A purchase (5) three days old is worth 2.5; a view (1) now 1; a view three days old 0.5.
    assert scores == pytest.approx([2.5, 1.0, 0.5])


def test_the_hybrid_learns_a_ranker_with_enough_data_and_blends_without(shop) -> None:
    arrays, style, events = shop
    assert Hybrid().fit(events, arrays).learnt
    assert not Hybrid().fit(events.select(events.shopper < 8), arrays).learnt
    blend = Hybrid(minimum_positives=len(events)).fit(events, arrays)
    assert not blend.learnt
    assert style_share(blend, arrays, style, events, np.arange(40)) > 0.6


def test_split_latest_holds_out_each_shoppers_last_session() -> None:
    hour = 3600.0
    events = EventLog.from_rows(
        [("a", 1, "view", float(t)) for t in range(6)]  # a first visit
        + [("a", 2, "view", 5 * hour + t) for t in range(2)]  # the last, hours later
        + [("b", 3, "view", float(t)) for t in range(3)]
        + [("b", 3, "view", 5 * hour)]
    )
    earlier, latest = split_latest(events, gap_seconds=1800, minimum_events=5)
    assert events.timestamp[latest].tolist() == [5 * hour, 5 * hour + 1]  # a's last visit
    assert not latest[events.shopper == 1].any()  # b: too short a history before it to hold any out
    assert (earlier ^ latest).all()


def test_the_content_profile_scores_in_fewer_dimensions_with_neighbours_kept() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(8, 48))
    vectors = (centres[np.arange(400) % 8] + 0.2 * rng.normal(size=(400, 48))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    reduced = reduce_dimensions(vectors, 8)
    assert reduced.shape == (400, 8)
    assert np.allclose(np.linalg.norm(reduced, axis=1), 1.0, atol=1e-5)
    # each product's nearest other product is of its own cluster, as in the full space
    similarity = reduced @ reduced.T
    np.fill_diagonal(similarity, -np.inf)
    assert np.mean(similarity.argmax(axis=1) % 8 == np.arange(400) % 8) > 0.95
    assert reduce_dimensions(vectors, 64) is vectors  # nothing to reduce


def test_the_hybrid_keeps_the_blends_best_candidates_of_each_shopper_for_its_trees() -> None:
    blend = np.array([0.1, 0.9, 0.5, 0.3, 0.8, 0.2, 0.7])
    shopper = np.array([0, 0, 0, 1, 1, 1, 2])
    assert _best_per_group(blend, shopper, 2).tolist() == [1, 2, 3, 4, 6]
    assert _best_per_group(blend, shopper, 5).tolist() == list(range(7))
